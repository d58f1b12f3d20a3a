import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPayloadCodec, isEncryptedPayload, KEY_ID_METADATA } from '../../src/infra/payloadCodec.js';
import { createWorkerRuntime } from '../../src/system/workerRuntime.js';
import { answer, customer, invitationLink, newPartner, offer, waitForStatus } from '../support/relationshipDriver.js';
import { sharedBundle } from '../support/testSystem.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { payloadsIn } from '../support/historyPayloads.js';

// Rotating the payload key under a running relationship, as the README tells an
// operator to: first every process gets the new key listed (the old one still
// current), then each switches to it, one at a time. Here the API and the worker
// list both keys and the worker restarts with the new one current: the
// relationship started under the old key carries on to active, and its history
// then holds payloads under both keys. (A process that did not list the new key
// yet could not read what the switched ones write: that is why the first step.)

const oldKey = randomBytes(32);
const newKey = randomBytes(32);

describe('rotating the payload key', () => {
  const system = useTestSystem('payload-key-rotation', {
    env: {
      PAYLOAD_ENCRYPTION_KEYS: `2026-01:${oldKey.toString('base64')},2026-12:${newKey.toString('base64')}`,
      PAYLOAD_ENCRYPTION_KEY_ID: '2026-01',
    },
  });

  it('a relationship started under the old key becomes active under the new one', async () => {
    const partner = await newPartner(system, 'rotation');
    const to = customer('rotation');
    const made = await offer(system, partner, to);
    const link = await invitationLink(system, to);

    // The worker comes back with the new key current (the API still writes with the old one).
    await system.stopWorker();
    const rotated = { ...system.config, PAYLOAD_ENCRYPTION_KEY_ID: '2026-12' };
    const worker = await createWorkerRuntime(rotated, system.log, { workflowBundle: await sharedBundle() });
    const running = worker.run();
    try {
      expect((await answer(link, { yes: true })).status).toBe(200);
      await waitForStatus(partner, made.id, 'active');
    } finally {
      await worker.shutdown();
      await running;
    }

    const payloads = payloadsIn(await system.temporal.workflow.getHandle(made.workflowId).fetchHistory()).filter(isEncryptedPayload);
    const keyIds = new Set(payloads.map((p) => Buffer.from(p.metadata?.[KEY_ID_METADATA] ?? []).toString()));
    expect([...keyIds].sort()).toEqual(['2026-01', '2026-12']);

    // Had the old key been dropped, the start input could no longer be read, and the error says which key it needs.
    const newKeyOnly = createPayloadCodec({ keys: new Map([['2026-12', newKey]]), currentKeyId: '2026-12' });
    await expect(newKeyOnly.decode(payloads)).rejects.toThrow('"2026-01"');
    const bothKeys = createPayloadCodec({ keys: rotated.PAYLOAD_ENCRYPTION_KEYS, currentKeyId: '2026-12' });
    expect((await bothKeys.decode(payloads)).length).toBe(payloads.length);
  });
});
