import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { DelayedError, type Job, type JobsOptions } from 'bullmq';
import { relationshipAttributes } from './spanAttributes.js';

// A queue job's span continues the trace that enqueued it. The context rides
// in the job's own options (`telemetry.metadata`, the field BullMQ's optional
// telemetry uses, in the same format), so no job data, outbox row or schema
// changes, and a job enqueued while tracing is off simply starts no trace.

const tracer = trace.getTracer('partnerflow-queues');

/** The active trace context as job options; none when no span is active (tracing off, or nothing traced). */
export function traceContextForJob(): Pick<JobsOptions, 'telemetry'> {
  if (!trace.getActiveSpan()) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? { telemetry: { metadata: JSON.stringify(carrier) } } : {};
}

function enqueuedIn(job: Job): Context {
  const metadata = job.opts.telemetry?.metadata;
  if (!metadata) return ROOT_CONTEXT;
  try {
    const carrier: unknown = JSON.parse(metadata);
    return typeof carrier === 'object' && carrier !== null ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  } catch {
    return ROOT_CONTEXT;
  }
}

/**
 * Runs `process` in a consumer span `process <queue>`, a child of the span that enqueued
 * the job. Attributes: the job's id and name, the relationship ids in its data, `extra`.
 * A failure sets the span's status and `error.type`, not the message (an SMTP refusal
 * quotes the address).
 */
export async function traceJob<T>(queue: string, job: Job, extra: Attributes, process: () => Promise<T>): Promise<T> {
  const attributes: Attributes = {
    'messaging.system': 'bullmq',
    'messaging.operation.type': 'process',
    'messaging.destination.name': queue,
    'messaging.message.id': job.id ?? '',
    'messaging.bullmq.job.name': job.name,
    'messaging.bullmq.job.attempt': job.attemptsMade + 1,
    ...relationshipAttributes(job.data),
    ...extra,
  };
  return tracer.startActiveSpan(`process ${queue}`, { kind: SpanKind.CONSUMER, attributes }, enqueuedIn(job), async (span) => {
    try {
      return await process();
    } catch (err) {
      // Deferred to a later hour is not a failure.
      if (!(err instanceof DelayedError)) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', err instanceof Error ? err.name : 'unknown');
      }
      throw err;
    } finally {
      span.end();
    }
  });
}
