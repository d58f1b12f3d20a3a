import type { Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResourcesSync, envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import { ConfigError } from '../config/config.js';
import { annotateActiveSpan } from './spanAttributes.js';

// OpenTelemetry tracing for a process, off unless the standard OTEL_* variables
// ask for it. Off, no SDK is loaded into the API's hot path: the Temporal
// client and worker get no interceptors, the worker runs the workflow bundle
// without tracing code, and the few manual spans (HTTP requests, queue jobs)
// go to the OpenTelemetry API's no-op tracer. On, spans leave the process in
// batches as OTLP over HTTP (JSON bodies), to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT;
// the SDK itself reads the other variables (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*, OTEL_PROPAGATORS,
// OTEL_EXPORTER_OTLP_HEADERS, ...).

export interface Tracing {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  /** For every Temporal Client of the process: a span per start, update, signal and query, its context passed in the headers. */
  readonly clientInterceptors: ClientInterceptors;
  /** For the Temporal Worker: a span per activity run, and the sink the workflow bundle's spans leave the sandbox through. */
  readonly workerOptions: Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** Exports what is still buffered, then stops; later calls wait for the first. */
  shutdown(): Promise<void>;
}

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

const isPrimitive = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);

/**
 * Workflow spans reach the worker through a sink that copies the whole WorkflowInfo
 * into their attributes; only its plain values (ids, type, task queue, attempt) are
 * kept: objects such as search attributes, memo or a last failure never leave.
 */
function plainAttributesOnly(next: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, context) => next.onStart(span, context),
    onEnd(span: ReadableSpan) {
      const attributes: Attributes = Object.fromEntries(
        Object.entries(span.attributes).filter(([, value]) => isPrimitive(value) || (Array.isArray(value) && value.every(isPrimitive))),
      );
      next.onEnd({ ...span, attributes });
    },
    forceFlush: () => next.forceFlush(),
    shutdown: () => next.shutdown(),
  };
}

/**
 * Starts tracing for this process when the environment asks for it (tracingRequested),
 * registering the global tracer provider, context manager and propagator; otherwise
 * returns tracingOff and loads nothing. Call it first, before any client is built.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  if (!tracingRequested(env)) return tracingOff;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the process's own name.
  const resource = new Resource({ 'service.name': serviceName }).merge(detectResourcesSync({ detectors: [envDetectorSync] }));
  const spans = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spans] });
  provider.register();
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    workerOptions: {
      interceptors: {
        activity: [
          (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
          // Inside the activity's span: names the relationship it works on.
          () => ({
            inbound: {
              execute(input, next) {
                annotateActiveSpan(input.args[0]);
                return next(input);
              },
            },
          }),
        ],
      },
      sinks: { exporter: makeWorkflowExporter(plainAttributesOnly(spans), resource) },
    },
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}
