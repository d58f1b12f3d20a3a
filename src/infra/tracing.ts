import { ConfigError } from '../config/config.js';
import type { Tracing } from './tracingSdk.js';

// OpenTelemetry tracing for a process, off unless the standard OTEL_* variables
// ask for it. Off, the SDK is not even loaded (tracingSdk.ts is imported only
// when on): the Temporal client and worker get no interceptors, the worker runs
// the workflow bundle without tracing code, the API installs no request
// middleware, and a queue job's span goes to the OpenTelemetry API's no-op
// tracer. On, spans leave the process in batches as OTLP over HTTP (JSON
// bodies), to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT; the SDK itself reads the
// other variables (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*, OTEL_PROPAGATORS, OTEL_EXPORTER_OTLP_HEADERS, ...).

export type { Tracing };

export const tracingOff: Tracing = { enabled: false, clientInterceptors: {}, workerOptions: {}, shutdown: async () => {} };

const listOf = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);

/**
 * Whether the environment asks for traces: an OTLP endpoint, or OTEL_TRACES_EXPORTER=otlp
 * (then the SDK's default endpoint, http://localhost:4318). OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none win. What the project cannot do is refused in one line.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = listOf(env.OTEL_TRACES_EXPORTER);
  if (exporters.includes('none')) return false;
  const unsupported = exporters.filter((name) => name !== 'otlp');
  if (unsupported.length > 0) throw new ConfigError('OTEL_TRACES_EXPORTER', `"${unsupported.join(',')}" is not supported: otlp (or none)`);
  const wanted = exporters.includes('otlp') || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const) {
    const protocol = env[variable]?.trim();
    if (wanted && protocol && protocol !== 'http/json') {
      throw new ConfigError(variable, `"${protocol}" is not supported: partnerflow exports OTLP over HTTP with JSON bodies (http/json)`);
    }
  }
  return wanted;
}

/**
 * Starts tracing for this process when its environment asks for it (tracingRequested),
 * registering the global tracer provider, context manager and propagator; otherwise
 * returns tracingOff and loads nothing. Call it first, before any client is built.
 * `serviceName` names the process unless OTEL_SERVICE_NAME does.
 */
export async function startTracing(serviceName: string): Promise<Tracing> {
  if (!tracingRequested(process.env)) return tracingOff;
  const { startSdkTracing } = await import('./tracingSdk.js');
  return startSdkTracing(serviceName);
}
