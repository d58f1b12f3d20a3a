import { describe, expect, it } from 'vitest';
import { relationshipWorkflowId } from '../../src/contract/relationship.js';
import { customer, invitationLink, mailsTo, newPartner, registerTenant, stateOf, subjects, waitForStatus } from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import type { TestSystem } from '../support/testSystem.js';

// Partner requests stay idempotent when the API dies between making a change and
// keeping its answer under the Idempotency-Key (found by the chaos suite, seeds
// 705103712 and 785046101). The lost answer is what a `kill -9` leaves: here its
// stored record is deleted, then the client retries under the same key.

/** Forgets every answer kept under an Idempotency-Key, as an API killed before keeping it would have. */
async function loseKeptAnswers(system: TestSystem): Promise<void> {
  const keys = await system.redis.keys(`${system.config.QUEUE_PREFIX}:idempotency:*`);
  expect(keys.length).toBeGreaterThan(0);
  await system.redis.del(...keys);
}

describe('an Idempotency-Key whose answer was lost', () => {
  const system = useTestSystem('idempotency-crash', { env: { RESEND_COOLDOWN_SECONDS: '0' } });

  it('an offer retried is the same offer (one row, one workflow, one email), not a duplicate', async () => {
    const partner = await newPartner(system, 'idemoffer');
    const to = customer('idemoffer');
    await registerTenant(system, to);
    const body = { customer: to, roles: ['user-administrator'] };
    const headers = { 'Idempotency-Key': 'offer-contoso-1' };
    const first = await partner.api.post('/api/v1/relationships', body, headers);
    expect(first.status, first.text).toBe(201);
    await invitationLink(system, to);
    await loseKeptAnswers(system);

    const retried = await partner.api.post('/api/v1/relationships', body, headers);
    expect(retried.status, retried.text).toBe(201);
    expect(retried.json.id).toBe(first.json.id);
    expect(await system.db.relationship.count({ where: { partnerId: partner.id } })).toBe(1);
    // Another request under another key is a new offer, refused as the duplicate it is.
    const other = await partner.api.post('/api/v1/relationships', body, { 'Idempotency-Key': 'offer-contoso-2' });
    expect(other.status).toBe(409);
    expect(mailsTo(system, to.adminEmail, subjects.invitation)).toHaveLength(1);

    // Another partner under the same key and body gets an offer of its own: the operation is the caller's.
    const stranger = await newPartner(system, 'idemstranger');
    const theirs = await stranger.api.post('/api/v1/relationships', body, headers);
    expect(theirs.status, theirs.text).toBe(201);
    expect(theirs.json.id).not.toBe(first.json.id);
    expect((await partner.api.get(`/api/v1/relationships/${String(first.json.id)}`)).status).toBe(200);
    expect((await stranger.api.get(`/api/v1/relationships/${String(first.json.id)}`)).status).toBe(404);
  });

  it('a resend or a withdraw retried answers as the first time and is not done again, also once the workflow has ended', async () => {
    const partner = await newPartner(system, 'idemsteps');
    const to = customer('idemsteps');
    await registerTenant(system, to);
    const created = await partner.api.post('/api/v1/relationships', { customer: to, roles: ['user-administrator'] });
    const id = String(created.json.id);
    await invitationLink(system, to);

    const handle = system.temporal.workflow.getHandle(relationshipWorkflowId(id));
    const roundBefore = (await stateOf(handle)).invitation.round;
    const resend = await partner.api.post(`/api/v1/relationships/${id}/resend`, {}, { 'Idempotency-Key': 'resend-1' });
    expect(resend.status, resend.text).toBe(200);
    await loseKeptAnswers(system);
    const resendAgain = await partner.api.post(`/api/v1/relationships/${id}/resend`, {}, { 'Idempotency-Key': 'resend-1' });
    expect(resendAgain.status, resendAgain.text).toBe(200);
    expect(resendAgain.json.invitationExpiresAt).toBe(resend.json.invitationExpiresAt);
    expect((await stateOf(handle)).invitation.round).toBe(roundBefore + 1);

    const withdraw = await partner.api.post(`/api/v1/relationships/${id}/withdraw`, { reason: 'Wrong tenant' }, { 'Idempotency-Key': 'withdraw-1' });
    expect(withdraw.status, withdraw.text).toBe(200);
    await handle.result();
    await loseKeptAnswers(system);
    // The workflow has completed meanwhile: Temporal still answers the same Update id with its outcome.
    const withdrawAgain = await partner.api.post(`/api/v1/relationships/${id}/withdraw`, { reason: 'Wrong tenant' }, { 'Idempotency-Key': 'withdraw-1' });
    expect(withdrawAgain.status, withdrawAgain.text).toBe(200);
    expect(withdrawAgain.json.status).toBe('withdrawn');
    await waitForStatus(partner, id, 'withdrawn');
  });
});
