import { trace, type Attributes } from '@opentelemetry/api';

// What a span may say about the relationship it works on. Spans leave the
// process for a tracing backend that more people can read than the database,
// so attributes come from this allowlist of identifiers only: never an email
// address, a name, terms, a token or a key.

const allowed = {
  relationshipId: 'partnerflow.relationship.id',
  workflowId: 'partnerflow.workflow.id',
  partnerId: 'partnerflow.partner.id',
  tenantDomain: 'partnerflow.tenant.domain',
} as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** The allowed identifiers found at the top of `value` (an activity's input, a job's data), and the status a transition moves to. */
export function relationshipAttributes(value: unknown): Attributes {
  if (!isRecord(value)) return {};
  const attributes: Attributes = {};
  for (const [field, name] of Object.entries(allowed)) {
    const found = value[field];
    if (typeof found === 'string') attributes[name] = found;
  }
  // One transition, or several written together: the status the last one moves to.
  const transition = Array.isArray(value.transitions) ? (value.transitions as unknown[]).at(-1) : value.transition;
  if (isRecord(transition) && typeof transition.to === 'string') attributes['partnerflow.transition.to'] = transition.to;
  return attributes;
}

/** Adds relationshipAttributes(value) to the active span, if any. */
export function annotateActiveSpan(value: unknown): void {
  trace.getActiveSpan()?.setAttributes(relationshipAttributes(value));
}
