import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/projectRoot.js';
import { runOperatorCli } from '../../src/operator/cli/operatorCli.js';
import { checkConsistency, type ConsistencyOptions } from '../../src/operator/consistency/consistencyCheck.js';
import type { ConsistencyReport, InvariantName } from '../../src/operator/consistency/consistencyReport.js';
import { answer, deliveredOffer, newParties, offer, onboardActiveRelationship, waitForStatus, type Partner } from '../support/relationshipDriver.js';
import { TEST_PAYLOAD_KEY_ENV } from '../support/testConfig.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';

// The consistency checker (npm run operator -- check) on the real stack: a healthy
// set of relationships passes, and each invariant broken on purpose is reported
// for exactly the relationship it was broken on, and nowhere else.

const system = useTestSystem('consistency-check');

const parts = () => ({ db: system.db, temporal: system.temporal, mailQueue: system.mailQueue, webhookQueue: system.webhookQueue, taskQueue: system.config.TEMPORAL_TASK_QUEUE });

/** Runs the operator command in-process over the checker; returns its exit code and what it printed. */
async function cli(args: string[], scope: ConsistencyOptions) {
  const out: string[] = [];
  const code = await runOperatorCli(['check', ...args], {
    env: {},
    out: (line) => out.push(line),
    err: (line) => out.push(line),
    consistencyCheck: (options) => checkConsistency(parts(), { ...options, ...scope }),
  });
  return { code, out: out.join('\n') };
}

const offending = (report: ConsistencyReport, name: InvariantName) =>
  [...new Set(report.invariants.find((i) => i.name === name)?.violations.map((v) => v.relationshipId))].sort();

/** The relationships every test starts from: one invited, one declined, one active, one terminated. */
async function healthyRelationships(partner: Partner, label: string) {
  const invited = await offer(system, partner, (await newParties(system, `${label}-i`)).to);
  const declined = await deliveredOffer(system, { partner, to: (await newParties(system, `${label}-d`)).to });
  expect((await answer(declined.link, { yes: false, reason: 'not now' })).status).toBeLessThan(400);
  await waitForStatus(partner, declined.id, 'declined');
  const active = await onboardActiveRelationship(system, { partner, to: (await newParties(system, `${label}-a`)).to });
  const ended = await onboardActiveRelationship(system, { partner, to: (await newParties(system, `${label}-t`)).to });
  expect((await partner.api.post(`/api/v1/relationships/${ended.id}/terminate`, { reason: 'done' })).status).toBe(200);
  await waitForStatus(partner, ended.id, 'terminated');
  return { invited, declined, active, ended };
}

describe('npm run operator -- check', () => {
  it('reports every invariant OK for a healthy system, exit 0, from the real entry point with --partner', async () => {
    const { partner } = await newParties(system, 'healthy');
    await healthyRelationships(partner, 'healthy');

    const report = await checkConsistency(parts(), { partnerIds: [partner.id] });
    expect(report.invariants.filter((i) => !i.ok), JSON.stringify(report, null, 2)).toEqual([]);
    expect(report.relationshipsChecked).toBe(4);
    expect(report.ok).toBe(true);

    // The command itself, as an operator runs it: its own connections from the environment.
    const { config } = system;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/system/operatorMain.ts', 'check', '--json', '--partner', partner.id], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: config.DATABASE_URL,
        REDIS_URL: config.REDIS_URL,
        TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
        TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
        QUEUE_PREFIX: config.QUEUE_PREFIX,
        OPERATOR_TOKEN: config.OPERATOR_TOKEN,
        SESSION_SECRET: config.SESSION_SECRET,
        LINK_SECRET: config.LINK_SECRET,
        ...TEST_PAYLOAD_KEY_ENV,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const printed = JSON.parse(stdout) as ConsistencyReport;
    expect(printed.ok).toBe(true);
    expect(printed.relationshipsChecked).toBe(4);
    expect(printed.invariants.map((i) => [i.name, i.ok])).toEqual([
      ['readModelMatchesWorkflow', true],
      ['grantsFollowStatus', true],
      ['noStuckRelationship', true],
      ['outboxDelivered', true],
      ['auditComplete', true],
    ]);
  });

  it('names exactly the relationship each broken invariant was broken on, exit 1', async () => {
    const { partner } = await newParties(system, 'broken');
    const healthy = await healthyRelationships(partner, 'healthy2');
    const db = system.db;

    // (a) the read model's end date no longer the workflow's.
    const drifted = await onboardActiveRelationship(system, { partner, to: (await newParties(system, 'drift')).to });
    await db.relationship.update({ where: { id: drifted.id }, data: { endsAt: new Date('2099-01-01T00:00:00Z') } });

    // (b) a grant left unrevoked on an ended relationship.
    const leftover = await onboardActiveRelationship(system, { partner, to: (await newParties(system, 'leftover')).to });
    expect((await partner.api.post(`/api/v1/relationships/${leftover.id}/terminate`, {})).status).toBe(200);
    await waitForStatus(partner, leftover.id, 'terminated');
    await db.roleGrant.updateMany({ where: { relationshipId: leftover.id }, data: { revokedAt: null } });

    // (c) an invitation whose workflow was terminated (from the Web UI, say): nothing will ever end it.
    const orphan = await offer(system, partner, (await newParties(system, 'orphan')).to);
    await waitFor(async () => ((await db.relationship.findUnique({ where: { id: orphan.id } }))?.version ?? 0) >= 1, { what: 'the invitation written by its workflow' });
    await orphan.handle.terminate('broken on purpose');

    // (d) an email queued in the outbox that never reached Redis.
    const unsent = await onboardActiveRelationship(system, { partner, to: (await newParties(system, 'unsent')).to });
    await db.emailMessage.create({
      data: { jobId: `lost-${unsent.id}`, template: 'expired', toAddress: unsent.to.adminEmail, relationshipId: unsent.id, status: 'queued', createdAt: new Date(Date.now() - 3_600_000) },
    });

    // (e) an audit event deleted: the relationship's acceptance.
    const unaudited = await onboardActiveRelationship(system, { partner, to: (await newParties(system, 'unaudited')).to });
    const deleted = await db.auditEvent.deleteMany({ where: { relationshipId: unaudited.id, action: 'relationship.accepted' } });
    expect(deleted.count).toBe(1);

    const report = await waitFor(
      async () => {
        const r = await checkConsistency(parts(), { partnerIds: [partner.id], settleMs: 200 });
        return offending(r, 'noStuckRelationship').length > 0 ? r : undefined;
      },
      { what: 'the terminated workflow to show as closed' },
    );
    expect(report.relationshipsChecked).toBe(9);
    expect(offending(report, 'readModelMatchesWorkflow'), JSON.stringify(report, null, 2)).toEqual([drifted.id]);
    expect(offending(report, 'grantsFollowStatus')).toEqual([leftover.id]);
    expect(offending(report, 'noStuckRelationship')).toEqual([orphan.id]);
    expect(offending(report, 'outboxDelivered')).toEqual([unsent.id]);
    expect(offending(report, 'auditComplete'), JSON.stringify(report.invariants[4], null, 2)).toEqual([unaudited.id]);
    expect(report.ok).toBe(false);
    for (const id of Object.values(healthy).map((r) => r.id)) {
      expect(report.invariants.flatMap((i) => i.violations).some((v) => v.relationshipId === id)).toBe(false);
    }

    const table = await cli(['--partner', partner.id], { settleMs: 200 });
    expect(table.code).toBe(1);
    expect(table.out).toMatch(/FAIL {2}grantsFollowStatus/);
    expect(table.out).toContain(`${leftover.id}  terminated but grants not revoked`);
    expect(table.out).toContain('INCONSISTENT');
    const json = await cli(['--json'], { partnerIds: [partner.id], settleMs: 200 });
    expect(json.code).toBe(1);
    expect((JSON.parse(json.out) as ConsistencyReport).invariants.find((i) => i.name === 'auditComplete')?.violations[0]?.relationshipId).toBe(unaudited.id);
    expect((await cli(['--job-age-seconds', 'soon'], {})).code).toBe(2);
  });
});
