import { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { isEncryptedPayload, payloadCodecOf } from '../../src/infra/payloadCodec.js';
import { answer, customer, invitationLink, newPartner, offer, waitFor } from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { payloadsIn } from '../support/historyPayloads.js';
import { recordHistory } from '../support/historyRecorder.js';

// The attack: whoever can read the Temporal server (its database, its Web UI or
// CLI without the codec, Temporal Cloud) reads a relationship's history. It must
// hold no customer admin's address or name and no partner terms, while the
// search attributes operators filter by stay readable.

/** Every string and every byte string (as UTF-8) anywhere in a history, payloads included. */
function textOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const item of value) textOf(item, out);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) textOf(item, out);
  return out;
}

describe('a history read without the codec', () => {
  const system = useTestSystem('encrypted-history');

  it('holds no admin email, name or terms, and the search attributes still find the workflow', async () => {
    const partner = await newPartner(system, 'sealed');
    const to = customer('sealed');
    const terms = `Terms sealed-${to.tenantDomain}: 24/7 support for the tenant.`;
    const made = await offer(system, partner, to, { terms });
    expect((await answer(await invitationLink(system, to), { yes: true })).status).toBe(200);

    // A client with the SDK's default data converter: what the server, its Web UI or `temporal workflow show` see.
    const outsider = new Client({ connection: system.temporal.connection, namespace: system.config.TEMPORAL_NAMESPACE });
    const byPartnerAndStatus = `PartnerId="${partner.id}" AND RelationshipStatus="active" AND TenantDomain="${to.tenantDomain}"`;
    await waitFor(
      async () => {
        for await (const execution of outsider.workflow.list({ query: byPartnerAndStatus })) if (execution.workflowId === made.workflowId) return true;
        return false;
      },
      { what: `${made.workflowId} found by its search attributes` },
    );

    const history = await outsider.workflow.getHandle(made.workflowId).fetchHistory();
    const stored = textOf(history).join('\n');
    expect(stored).not.toContain(to.adminEmail);
    expect(stored).not.toContain(to.name);
    expect(stored).not.toContain(terms);
    // The search attributes stay clear: they are how operators find the workflow.
    expect(stored).toContain(partner.id);

    // Every payload but the search attributes' is encrypted, and what they hide is really there:
    // decrypted with the deployment's keys, the same history names the admin and the terms.
    const payloads = payloadsIn(history);
    const searchAttributeValues = new Set([partner.id, to.tenantDomain, 'invited', 'accepted', 'provisioning', 'active'].map((v) => JSON.stringify(v)));
    // The SDK's own patch markers (a patch id, and the TemporalChangeVersion search attribute) stay clear too.
    const sdkPatchMarker = /^(\{"id":"[\w-]+","deprecated":(true|false)\}|\["[\w-]+"(,"[\w-]+")*\])$/;
    const clear = payloads
      .filter((p) => !isEncryptedPayload(p))
      .map((p) => Buffer.from(p.data ?? []).toString('utf8'))
      .filter((text) => !searchAttributeValues.has(text) && !sdkPatchMarker.test(text));
    expect(clear).toEqual([]);
    expect(payloads.filter((p) => isEncryptedPayload(p)).length).toBeGreaterThan(5);
    const decrypted = textOf(await payloadCodecOf(system.config).decode(payloads)).join('\n');
    expect(decrypted).toContain(to.adminEmail);
    expect(decrypted).toContain(terms);
    // npm run histories:record keeps this one: test/replay.test.ts replays a history written encrypted (with the test key).
    await recordHistory(system.temporal, 'encrypted-offer-accepted-active', made.workflowId);
  });
});
