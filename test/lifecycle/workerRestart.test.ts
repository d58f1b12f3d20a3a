import { describe, expect, it } from 'vitest';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  answer,
  deliveredOffer,
  expectAuditPath,
  mailTo,
  mailsTo,
  subjects,
  waitFor,
  waitForStatus,
  stateOf,
} from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

// The worker process goes away mid-flow (deploy, crash) and comes back:
// durable timers and pending messages carry on, nothing happens twice.
// Sequential on purpose: each test stops the one worker the file shares.
describe('a worker restarted mid-flow', () => {
  const system = useTestSystem('restart');

  it('restarts while invited and while active: the flow completes, each step once', async () => {
    const { partner, to, id, workflowId, handle, link } = await deliveredOffer(system, 'restart');

    await system.restartWorker();
    await answer(link, { yes: true });
    await waitForStatus(partner, id, 'active');
    await mailTo(system, partner.contactEmail, subjects.accepted);

    await system.restartWorker();
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });
    const ended = await partner.api.post(`/api/v1/relationships/${id}/terminate`, { reason: 'Restart test' });
    expect(ended.status).toBe(200);
    await waitForStatus(partner, id, 'terminated');
    await mailTo(system, to.adminEmail, subjects.terminated);
    await handle.result();

    await expectAuditPath(system, id, ['invited', 'accepted', 'active', 'terminated']);
    expect(mailsTo(system, to.adminEmail, subjects.invitation)).toHaveLength(1);
    expect(mailsTo(system, partner.contactEmail, subjects.accepted)).toHaveLength(1);
    expect(mailsTo(system, partner.contactEmail, subjects.terminated)).toHaveLength(1);
    await recordHistory(system.temporal, 'worker-restarts-while-invited-and-active', workflowId);
  });

  it('an answer sent while no worker runs waits for the worker and is applied once', async () => {
    const { partner, id, handle, link } = await deliveredOffer(system, 'offline');

    await system.stopWorker();
    const answered = answer(link, { yes: true });
    await system.startWorker();
    expect((await answered).status).toBe(200);
    await waitForStatus(partner, id, 'active');
    await expectAuditPath(system, id, ['invited', 'accepted', 'active']);
    await handle.terminate('test cleanup');
  });

  it('an invitation whose expiry passes while no worker runs expires when one comes back', async () => {
    const { partner, id, handle } = await deliveredOffer(system, 'down', { invitationTtl: '2s' });
    const { expiresAt } = (await stateOf(handle)).invitation;

    await system.stopWorker();
    await waitFor(() => Date.now() > Date.parse(expiresAt) + 500, { what: 'the expiry to pass while the worker is down' });
    await system.startWorker();

    await waitForStatus(partner, id, 'invitationExpired');
    await mailTo(system, partner.contactEmail, subjects.invitationExpired);
    await expectAuditPath(system, id, ['invited', 'invitationExpired']);
  });
});
