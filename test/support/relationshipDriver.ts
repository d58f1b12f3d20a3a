import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { expect } from 'vitest';
import { getStateQuery, type StepRefusal } from '../../src/contract/messages.js';
import { relationshipWorkflowId } from '../../src/contract/relationship.js';
import { stepRefusalOf } from '../../src/relationships/temporalErrors.js';
import type { relationshipWorkflow } from '../../src/workflows/relationshipWorkflow.js';
import { apiClient, getPage, postForm } from './http.js';
import type { CaughtMail } from './smtpCatcher.js';
import type { TestSystem } from './testSystem.js';
import { waitFor } from './waitFor.js';

// Drives relationships the way their users do (partner API, emailed links,
// customer pages) and reads what the system recorded (read model, audit,
// workflow history), so lifecycle tests say what happens rather than how.

export type RelationshipJson = Record<string, unknown> & {
  id: string;
  status: string;
  trial?: { status?: string; failureReason?: string | null; endsAt?: string | null } | null;
  endsAt?: string | null;
  endedAt?: string | null;
};

export const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

export function linkIn(text: string, path: string): string {
  const match = new RegExp(`https?://[^\\s"<>]+${path}/[A-Za-z0-9_-]+`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text.slice(0, 500)}`);
  return match[0];
}

export const csrfIn = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

export function customer(label: string) {
  const name = unique(label);
  const tenantDomain = `${name}.example.com`;
  // The name is unique too: emails name the customer, so tests can tell them apart.
  return { tenantDomain, adminEmail: `admin@${tenantDomain}`, name: `Customer ${name}` };
}

export type Customer = ReturnType<typeof customer>;

/**
 * A partner registered through the operator API, with its own contact address and API client.
 * `extra` adds to what the operator sends (a `webhookUrl`: the answer then holds its `webhookSecret`).
 */
export async function newPartner(system: TestSystem, label: string, extra: Record<string, unknown> = {}): Promise<Partner> {
  const operator = apiClient(system.baseUrl, system.operatorToken);
  const name = `Partner ${unique(label)}`;
  const contactEmail = `ops@${unique(label)}.partner.example`;
  const created = await operator.post('/api/v1/admin/partners', { name, contactEmail, ...extra });
  expect(created.status).toBe(201);
  const api = apiClient(system.baseUrl, String(created.json.apiKey));
  const { webhookSecret } = created.json;
  return { id: String(created.json.id), name, contactEmail, api, ...(typeof webhookSecret === 'string' ? { webhookSecret } : {}) };
}

export interface Partner {
  id: string;
  name: string;
  contactEmail: string;
  api: ReturnType<typeof apiClient>;
  webhookSecret?: string;
}

/** The operator registers the customer's tenant with its admin address as the one verified admin. */
export async function registerTenant(system: TestSystem, to: Customer, admins: string[] = [to.adminEmail]) {
  const operator = apiClient(system.baseUrl, system.operatorToken);
  const res = await operator.put(`/api/v1/admin/tenants/${to.tenantDomain}`, { name: to.name, admins });
  expect([200, 201], res.text).toContain(res.status);
  return res.json;
}

/**
 * Creates an offer through the API and returns its id and workflow handle. The tenant is
 * registered first (with the offer's address as its admin) unless `registered: false`: only a
 * verified admin can answer an invitation.
 */
export async function offer(system: TestSystem, partner: Partner, to: Customer, extra: Record<string, unknown> = {}, { registered = true } = {}) {
  if (registered) await registerTenant(system, to);
  const res = await partner.api.post('/api/v1/relationships', {
    customer: to,
    roles: ['user-administrator', 'license-administrator'],
    ...extra,
  });
  expect(res.status, res.text).toBe(201);
  const id = String(res.json.id);
  const handle: WorkflowHandle<typeof relationshipWorkflow> = system.temporal.workflow.getHandle(relationshipWorkflowId(id));
  return { id, workflowId: relationshipWorkflowId(id), handle, created: res.json as RelationshipJson };
}

export type Offer = Awaited<ReturnType<typeof offer>>;

export function mailTo(system: TestSystem, address: string, subject: RegExp, what = `an email to ${address} matching ${subject}`) {
  return system.smtp.waitForMail((m) => m.to.includes(address) && subject.test(m.parsed.subject ?? ''), what);
}

export function mailsTo(system: TestSystem, address: string, subject: RegExp): CaughtMail[] {
  return system.smtp.messages.filter((m) => m.to.includes(address) && subject.test(m.parsed.subject ?? ''));
}

export const subjects = {
  invitation: /asks for admin access/,
  reminder: /^Reminder:/,
  accepted: /accepted your partner request/,
  declined: /declined your partner request/,
  invitationExpired: /Your partner request to .* expired/,
  trialReady: /trial from .* is ready/,
  trialFailed: /trial for .* could not be created/,
  removed: /removed .* as a partner/,
  terminated: /ended its partner relationship/,
  expired: /has ended$/,
  endingSoon: /ends in \d+ days?$/,
  renewed: /was renewed$/,
};

/** The link in the newest invitation (or reminder) email to this customer. */
export async function invitationLink(system: TestSystem, to: Customer, subject: RegExp = subjects.invitation, count = 1) {
  const mails = await waitFor(() => {
    const found = mailsTo(system, to.adminEmail, subject);
    return found.length >= count ? found : undefined;
  }, { what: `${count} email(s) to ${to.adminEmail} matching ${subject}` });
  const mail = mails[count - 1];
  if (!mail) throw new Error('unreachable: waitFor returned too few emails');
  return linkIn(mail.parsed.html || mail.parsed.text || '', '/invitations');
}

/**
 * Answers the invitation the way a browser does: Yes (with the trial page's choice, which the
 * server ignores when no trial is offered) or No with a reason.
 */
export function answer(link: string, choice: { yes: true; startTrial?: boolean } | { yes: false; reason?: string }) {
  if (choice.yes) return postForm(link, { choice: 'yes', trial: choice.startTrial ? 'start' : 'skip' });
  return postForm(link, { choice: 'no', ...(choice.reason ? { reason: choice.reason } : {}) });
}

export async function readModel(partner: Partner, id: string): Promise<RelationshipJson> {
  const res = await partner.api.get(`/api/v1/relationships/${id}`);
  expect(res.status).toBe(200);
  return res.json as RelationshipJson;
}

/** Waits until the read model shows `status` and returns the relationship as the API shows it. */
export function waitForStatus(partner: Partner, id: string, status: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const rel = await readModel(partner, id);
      return rel.status === status ? rel : undefined;
    },
    { what: `relationship ${id} to be ${status} in the read model`, timeoutMs },
  );
}

/** The two sides of most relationship tests. */
export interface Parties {
  partner: Partner;
  to: Customer;
}

/** A new partner and a new customer, both named after `label` (each made unique). */
export async function newParties(system: TestSystem, label: string): Promise<Parties> {
  const partner = await newPartner(system, label);
  return { partner, to: customer(label) };
}

/**
 * The start every test of an invitation shares: the partner offers (see `offer`) and the
 * invitation email reaches the customer's admin. `parties` are given, or made from a label.
 * Returns both sides, the offer, and the email's link.
 */
export async function deliveredOffer(system: TestSystem, parties: Parties | string, extra: Record<string, unknown> = {}, options: { registered?: boolean } = {}) {
  const { partner, to } = typeof parties === 'string' ? await newParties(system, parties) : parties;
  const offered = await offer(system, partner, to, extra, options);
  const link = await invitationLink(system, to);
  return { partner, to, ...offered, link };
}

/**
 * The start every test of an active relationship shares: the partner offers (see `offer`), the
 * admin opens the emailed link and answers Yes (starting the offered trial with `startTrial`),
 * and the read model shows it active. `parties` are given, or made from a label. Returns both
 * sides, the offer, the answer page and the relationship as the API shows it once active.
 */
export async function onboardActiveRelationship(system: TestSystem, parties: Parties | string, extra: Record<string, unknown> = {}, { startTrial = false } = {}) {
  const { partner, to, link, ...offered } = await deliveredOffer(system, parties, extra);
  const answered = await answer(link, { yes: true, startTrial });
  const active = await waitForStatus(partner, offered.id, 'active');
  return { partner, to, ...offered, answered, active };
}

export async function access(partner: Partner, to: Customer, role = 'user-administrator') {
  const res = await partner.api.get(`/api/v1/access?tenant=${to.tenantDomain}&role=${role}`);
  expect(res.status).toBe(200);
  return res.json as { allowed: boolean; relationshipId?: string };
}

/** The audit trail's status transitions, oldest first. */
export async function auditTransitions(system: TestSystem, id: string) {
  const rows = await system.db.auditEvent.findMany({ where: { relationshipId: id, toStatus: { not: null } }, orderBy: { id: 'asc' } });
  return rows.map((r) => ({ from: r.fromStatus, to: r.toStatus, actor: r.actorType, actorId: r.actorId, reason: r.reason, key: r.idempotencyKey }));
}

/** Checks the audit trail is exactly `path`, one event per transition, each starting where the last ended. */
export async function expectAuditPath(system: TestSystem, id: string, path: string[]) {
  const trail = await auditTransitions(system, id);
  expect(trail.map((t) => t.to)).toEqual(path);
  expect(new Set(trail.map((t) => t.key)).size).toBe(trail.length);
  trail.forEach((t, i) => expect(t.from).toBe(i === 0 ? null : path[i - 1]));
  return trail;
}

/**
 * The values RelationshipStatus took, in history order (an upsert that repeats
 * the current value is not a change, so it is not listed twice).
 */
export async function statusSearchAttributeValues(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  const values: string[] = [];
  for (const event of history.events ?? []) {
    const payload = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.RelationshipStatus;
    const value = payload ? String(defaultPayloadConverter.fromPayload(payload)) : undefined;
    if (value && value !== values.at(-1)) values.push(value);
  }
  return values;
}

/** The typed refusal an update failed with (throws if it succeeded or failed differently). */
export async function refusalOf(update: Promise<unknown>): Promise<StepRefusal> {
  const err = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  return refusalIn(err);
}

export function refusalIn(err: unknown): StepRefusal {
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const refusal = stepRefusalOf(err);
  if (!refusal) throw new Error(`not a step refusal: ${String(err)}`);
  return refusal;
}

/** The workflow's whole state, from its query. */
export const stateOf = (handle: WorkflowHandle) => handle.query(getStateQuery);

/** Awaits `step`; if it fails, the error carries the workflow's state and event timeline, for timing failures. */
export async function explainedBy<T>(handle: WorkflowHandle, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (err) {
    const events = (await handle.fetchHistory()).events ?? [];
    const start = Number(events[0]?.eventTime?.seconds ?? 0) * 1000 + Math.round((events[0]?.eventTime?.nanos ?? 0) / 1e6);
    const timeline = events.map((e) => {
      const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
      return `  +${at - start}ms ${proto.temporal.api.enums.v1.EventType[e.eventType ?? 0]}`;
    });
    const detail = `state: ${JSON.stringify(await stateOf(handle))}\nhistory:\n${timeline.join('\n')}`;
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${detail}`, { cause: err });
  }
}

export async function historyLength(handle: WorkflowHandle): Promise<number> {
  return (await handle.fetchHistory()).events?.length ?? 0;
}

export { getPage, postForm, waitFor };
