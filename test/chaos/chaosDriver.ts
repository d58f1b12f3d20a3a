import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { removeUpdate, setAutoExtendUpdate } from '../../src/contract/messages.js';
import { relationshipWorkflowId } from '../../src/contract/relationship.js';
import { apiClient, postForm } from '../support/http.js';
import type { SmtpCatcher } from '../support/smtpCatcher.js';
import type { WebhookReceiver } from '../support/webhookReceiver.js';
import type { Scenario } from './scenarios.js';

// Drives relationships through every path the way their users do (the partner
// API, the emailed link, the customer's removal and an auto-extend switch through
// the workflow's updates), retrying each step through any fault the way a real
// client retries: same Idempotency-Key or update id, until a definite answer.

export interface ChaosEnvironment {
  baseUrl: string;
  operatorToken: string;
  smtp: SmtpCatcher;
  receiver: WebhookReceiver;
  temporal: Client;
  /** How long one step may keep failing before the run gives up on it. */
  stepTimeoutMs: number;
  log: (line: string) => void;
}

export interface DrivenPartner {
  id: string;
  contactEmail: string;
  api: ReturnType<typeof apiClient>;
}

export interface Driven {
  index: number;
  scenario: Scenario;
  partner: DrivenPartner;
  tenantDomain: string;
  adminEmail: string;
  id?: string;
  /** The last step that failed for good, if one did. */
  failure?: string;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it returns a value; a thrown error or undefined is retried with backoff. */
async function retry<T>(env: ChaosEnvironment, what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + env.stepTimeoutMs;
  let delay = 250;
  let last = 'no answer';
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) throw err;
      last = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
    }
    if (Date.now() > deadline) throw new Error(`${what}: gave up after ${env.stepTimeoutMs} ms (${last})`);
    await pause(delay);
    delay = Math.min(delay * 2, 3_000);
  }
}

/**
 * A response the caller may act on: anything but a network error, a 5xx, a 429, or a 409 saying the
 * first request under this Idempotency-Key is still running (its lease outlives an API killed
 * mid-request by a minute): those are retried, as a client following Retry-After would.
 */
const definite = <R extends { status: number; text: string }>(res: R) =>
  res.status >= 500 || res.status === 429 || (res.status === 409 && res.text.includes('idempotencyKeyInProgress')) ? undefined : res;

export async function createPartner(env: ChaosEnvironment, index: number): Promise<DrivenPartner> {
  const operator = apiClient(env.baseUrl, env.operatorToken);
  const path = `/partner-${index}`;
  const webhookUrl = env.receiver.endpoint(path, () => 200);
  const created = await retry(env, `partner ${index}`, async () =>
    definite(await operator.post('/api/v1/admin/partners', { name: `Chaos partner ${index}`, contactEmail: `ops@p${index}.chaos.example`, webhookUrl }, { 'Idempotency-Key': `chaos-partner-${index}` })),
  );
  if (created.status !== 201) throw new Error(`partner ${index}: ${created.status} ${created.text}`);
  env.receiver.setSecret(path, String(created.json.webhookSecret));
  return { id: String(created.json.id), contactEmail: `ops@p${index}.chaos.example`, api: apiClient(env.baseUrl, String(created.json.apiKey)) };
}

function offerBody(d: Driven): Record<string, unknown> {
  const customer = { tenantDomain: d.tenantDomain, adminEmail: d.adminEmail, name: `Chaos customer ${d.index}` };
  const base = { customer, roles: ['user-administrator', 'license-administrator'], invitationTtl: '1h', duration: '1d', policy: { warningsBeforeEnd: [] } };
  switch (d.scenario) {
    case 'invitationExpires':
      return { ...base, invitationTtl: '40s', policy: { warningsBeforeEnd: [], reminderBeforeExpiry: '20s' } };
    case 'acceptExpires':
    case 'resendAcceptExpires':
      return { ...base, duration: '20s' };
    case 'autoExtendExpires':
      return { ...base, duration: '10s', autoExtend: true, policy: { warningsBeforeEnd: [], autoExtendBy: '10s' } };
    case 'acceptTrialTerminated':
      // The default 5 provider attempts: a Postgres outage retried meanwhile does not use them up.
      return { ...base, trial: { offer: 'Chaos Suite', seats: 5, days: 30 }, policy: { warningsBeforeEnd: [] } };
    default:
      return base;
  }
}

/** The link of the `count`th invitation email to the admin (the newest when a resend replaced the first). */
async function invitationLink(env: ChaosEnvironment, d: Driven, count: number): Promise<string> {
  return retry(env, `invitation email ${count} for ${d.index}`, () => {
    const mails = env.smtp.messages.filter((m) => m.to.includes(d.adminEmail) && /asks for admin access/.test(m.parsed.subject ?? ''));
    const mail = mails[count - 1];
    if (!mail) return Promise.resolve(undefined);
    const match = /https?:\/\/[^\s"<>]+\/invitations\/[A-Za-z0-9_-]+/.exec(mail.parsed.html || mail.parsed.text || '');
    return Promise.resolve(match?.[0]);
  });
}

async function status(env: ChaosEnvironment, d: Driven): Promise<Record<string, unknown>> {
  return retry(env, `read ${d.id}`, async () => {
    const res = definite(await d.partner.api.get(`/api/v1/relationships/${d.id}`));
    if (res && res.status !== 200) throw new Error(`GET ${d.id}: ${res.status}`);
    return res?.json;
  });
}

async function until(env: ChaosEnvironment, d: Driven, wanted: string): Promise<void> {
  await retry(env, `${d.id} to become ${wanted}`, async () => ((await status(env, d)).status === wanted ? true : undefined));
}

// Under one Idempotency-Key the step is one Temporal update id, so a retry after an API killed
// before it kept the answer gets the first outcome: a refusal here (already ended, a third
// invitation) would be the chaos suite's finding.
async function partnerStep(env: ChaosEnvironment, d: Driven, step: 'resend' | 'withdraw' | 'terminate'): Promise<void> {
  const res = await retry(env, `${step} ${d.id}`, async () =>
    definite(await d.partner.api.post(`/api/v1/relationships/${d.id}/${step}`, { reason: `chaos ${step}` }, { 'Idempotency-Key': `chaos-${step}-${d.id}` })),
  );
  if (res.status !== 200) throw new Error(`${step} ${d.id}: ${res.status} ${res.text.slice(0, 300)}`);
}

async function update(env: ChaosEnvironment, d: Driven, name: 'remove' | 'autoExtendOff'): Promise<void> {
  const handle = env.temporal.workflow.getHandle(relationshipWorkflowId(d.id ?? ''));
  await retry(env, `${name} ${d.id}`, async () => {
    try {
      if (name === 'remove') await handle.executeUpdate(removeUpdate, { args: [{ actor: { type: 'customer', id: d.adminEmail } }], updateId: `chaos-remove-${d.id}` });
      else await handle.executeUpdate(setAutoExtendUpdate, { args: [{ actor: { type: 'partner', id: d.partner.id }, autoExtend: false }], updateId: `chaos-auto-extend-off-${d.id}` });
      return true;
    } catch (err) {
      // A refusal is a definite answer (and a test failure: the step was not allowed).
      if (err instanceof WorkflowUpdateFailedError) throw Object.assign(new Error(`${name} ${d.id} refused: ${err.cause?.message ?? err.message}`), { fatal: true });
      throw err;
    }
  });
}

async function answer(env: ChaosEnvironment, d: Driven, link: string, fields: Record<string, string>): Promise<void> {
  // A repeated answer (the first one's reply was lost) is refused as used: also definite.
  await retry(env, `answer ${d.id}`, async () => definite(await postForm(link, fields)));
}

/** One relationship from offer to its expected end. */
export async function drive(env: ChaosEnvironment, d: Driven, renewalsOf: (id: string) => Promise<number>): Promise<void> {
  const created = await retry(env, `offer ${d.index}`, async () => {
    const register = definite(
      await apiClient(env.baseUrl, env.operatorToken).put(`/api/v1/admin/tenants/${d.tenantDomain}`, { name: `Chaos customer ${d.index}`, admins: [d.adminEmail] }),
    );
    if (!register) return undefined;
    return definite(await d.partner.api.post('/api/v1/relationships', offerBody(d), { 'Idempotency-Key': `chaos-offer-${d.index}` }));
  });
  // A retry after an API killed before it kept the answer finds the same offer (its id comes from
  // the Idempotency-Key): anything but 201 is a finding.
  if (created.status !== 201) throw new Error(`offer ${d.index}: ${created.status} ${created.text.slice(0, 300)}`);
  d.id = String(created.json.id);

  switch (d.scenario) {
    case 'invitationExpires':
      return until(env, d, 'invitationExpired');
    case 'withdrawn':
      await invitationLink(env, d, 1);
      await partnerStep(env, d, 'withdraw');
      return until(env, d, 'withdrawn');
    case 'declined':
      await answer(env, d, await invitationLink(env, d, 1), { choice: 'no', reason: 'chaos says no' });
      return until(env, d, 'declined');
    case 'resendAcceptExpires': {
      await invitationLink(env, d, 1);
      await partnerStep(env, d, 'resend');
      await answer(env, d, await invitationLink(env, d, 2), { choice: 'yes', trial: 'skip' });
      return until(env, d, 'expired');
    }
    case 'acceptExpires':
      await answer(env, d, await invitationLink(env, d, 1), { choice: 'yes', trial: 'skip' });
      return until(env, d, 'expired');
    case 'acceptTrialTerminated':
      await answer(env, d, await invitationLink(env, d, 1), { choice: 'yes', trial: 'start' });
      await until(env, d, 'active');
      await partnerStep(env, d, 'terminate');
      return until(env, d, 'terminated');
    case 'acceptRemoved':
      await answer(env, d, await invitationLink(env, d, 1), { choice: 'yes', trial: 'skip' });
      await until(env, d, 'active');
      await update(env, d, 'remove');
      return until(env, d, 'terminated');
    case 'autoExtendExpires': {
      await answer(env, d, await invitationLink(env, d, 1), { choice: 'yes', trial: 'skip' });
      await until(env, d, 'active');
      const id = d.id;
      await retry(env, `a renewal of ${id}`, async () => ((await renewalsOf(id)) >= 1 ? true : undefined));
      await update(env, d, 'autoExtendOff');
      return until(env, d, 'expired');
    }
  }
}
