import type { Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResourcesSync, envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { annotateActiveSpan } from './spanAttributes.js';

// The OpenTelemetry SDK and Temporal's interceptors, loaded only when tracing is
// on (tracing.ts). Spans leave in batches (OTEL_BSP_*) as OTLP over HTTP with
// JSON bodies; the SDK reads its own variables (resource, sampler, propagators,
// exporter headers and timeout).

/** A process's tracing, as the composition root hands it to the Temporal client, the worker and the HTTP app (see tracing.ts). */
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

/** The SDK started, exporting to what OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT says (tracing.ts decided it is wanted). */
export function startSdkTracing(serviceName: string): Tracing {
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
