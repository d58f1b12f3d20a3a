import { context, trace, type Context } from '@opentelemetry/api';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptorsFactory, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';

// The workflow interceptors of the traced bundle only (src/system/workflowBundle.ts
// adds this module when tracing is on; the plain bundle has no tracing code).
// Temporal's OpenTelemetry interceptors give a span to the run, to each update,
// signal and query handled, and to each activity scheduled, continuing the
// caller's trace from the message headers.
//
// One rule of ours on top: a relationship's run lasts months, and its main
// flow would put every step in the trace of the offer that started it. The
// steps the main flow takes after an update or signal, until it waits on a
// timer again, are that message's doing: they are scheduled in the message's
// trace, so the customer's accept shows through to the `active` transition.
// Only span contexts change; no command does, so replay is unaffected.

/** The steps a message sets off: the last update or signal handled, until the main flow waits again. */
function messageReactions(): { inbound: WorkflowInboundCallsInterceptor; outbound: WorkflowOutboundCallsInterceptor } {
  let runSpanId: string | undefined;
  let lastMessage: Context | undefined;
  const inMainFlow = () => runSpanId !== undefined && trace.getSpan(context.active())?.spanContext().spanId === runSpanId;
  const inReaction = <T>(run: () => T): T => (lastMessage && inMainFlow() ? context.with(lastMessage, run) : run());

  return {
    // Inside Temporal's inbound interceptor, so the active span is the run's or the message's.
    inbound: {
      execute(input, next) {
        runSpanId = trace.getSpan(context.active())?.spanContext().spanId;
        return next(input);
      },
      handleUpdate(input, next) {
        lastMessage = context.active();
        return next(input);
      },
      handleSignal(input, next) {
        lastMessage = context.active();
        return next(input);
      },
    },
    // Before Temporal's outbound interceptor, which starts the activity's span in the active context.
    outbound: {
      scheduleActivity: (input, next) => inReaction(() => next(input)),
      scheduleLocalActivity: (input, next) => inReaction(() => next(input)),
      startTimer(input, next) {
        if (inMainFlow()) lastMessage = undefined;
        return next(input);
      },
    },
  };
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const reactions = messageReactions();
  return {
    inbound: [new OpenTelemetryInboundInterceptor(), reactions.inbound],
    outbound: [reactions.outbound, new OpenTelemetryOutboundInterceptor()],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
