import { randomInt } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { acceptUpdate, removeUpdate } from '../../src/contract/messages.js';
import type { Actor } from '../../src/contract/relationship.js';
import { isEnded, type RelationshipStatus } from '../../src/contract/statuses.js';
import type { relationshipWorkflow } from '../../src/workflows/relationshipWorkflow.js';
import {
  access,
  auditTransitions,
  csrfIn,
  deliveredOffer,
  expectAuditPath,
  getPage,
  mailTo,
  invitationLink,
  mailsTo,
  onboardActiveRelationship,
  postForm,
  readModel,
  stateOf,
  subjects,
  waitFor,
  waitForStatus,
  type Customer,
  type Partner,
} from '../support/relationshipDriver.js';
import { signIn } from '../support/tenantDriver.js';
import type { TestSystem } from '../support/testSystem.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Two actions on one relationship at (nearly) the same time, through the real API, customer
// pages, Temporal, Postgres, Redis and SMTP. Each race runs on many relationships at once, each
// with its own random offset between the two actions (a seeded PRNG: RACE_SEED=<seed> replays
// a failure), then every record is checked: exactly one outcome, the read model equal to the
// workflow's state, grants iff active, each email once, the winner in the audit log, and the
// loser refused clearly (409 with a reason, or the link page), never a 500.

const SEED = process.env.RACE_SEED ? Number(process.env.RACE_SEED) : randomInt(2 ** 31);
console.log(`races: seed ${SEED} (replay with RACE_SEED=${SEED})`);

/** mulberry32: small, fast and reproducible from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One PRNG per race, so a race replays the same offsets whatever the others did. */
const offsetsFor = (race: number, count: number, spreadMs: number) => {
  const next = prng(SEED + race * 7919);
  return Array.from({ length: count }, () => Math.round((next() * 2 - 1) * spreadMs));
};

/** Relationships per race (RACE_RUNS raises it to hunt for a rare interleaving). */
const RUNS = process.env.RACE_RUNS ? Number(process.env.RACE_RUNS) : 12;

/** How the runs of one race came out, printed so a run shows which interleavings it reached. */
function tally(race: string, outcomes: string[]) {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  console.log(`races: ${race}: ${[...counts].map(([o, n]) => `${n}× ${o}`).join(', ')}`);
}

const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

/** Runs `first` now and `second` `offsetMs` later (earlier when negative). */
function raced<A, B>(first: () => Promise<A>, second: () => Promise<B>, offsetMs: number): Promise<[A, B]> {
  const start = Date.now();
  return Promise.all([sleepUntil(start - Math.min(0, offsetMs)).then(first), sleepUntil(start + Math.max(0, offsetMs)).then(second)]);
}

type Handle = WorkflowHandle<typeof relationshipWorkflow>;

interface Raced {
  partner: Partner;
  to: Customer;
  id: string;
  handle: Handle;
}

/** Every mail job the system queued has been sent (or given up): counts at the catcher are final. */
async function mailSettled(system: TestSystem) {
  await waitFor(
    async () => {
      const counts = await system.mailQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      return Object.values(counts).every((n) => n === 0);
    },
    { what: 'the mail queue to drain', timeoutMs: 60_000, intervalMs: 200 },
  );
}

/**
 * The records of one raced relationship agree once it has settled in `status`: the read model
 * and the workflow's state (status, endsAt, every transition written), the audit trail equal
 * to the workflow's transitions with at most one end, grants and the access check iff active.
 */
async function expectConsistent(system: TestSystem, { partner, to, id, handle }: Raced, status: RelationshipStatus, label: string) {
  const row = await waitForStatus(partner, id, status, 60_000);
  const state = await waitFor(
    async () => {
      const s = await stateOf(handle);
      return s.writtenSeq === s.transitions.at(-1)?.seq ? s : undefined;
    },
    { what: `${label}: every transition written` },
  );
  expect(state.status, label).toBe(status);
  const dateOf = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);
  expect(dateOf(row.endsAt), `${label}: endsAt`).toBe(dateOf(state.endsAt));
  expect(dateOf(row.endedAt), `${label}: endedAt`).toBe(dateOf(state.endedAt));

  const trail = await auditTransitions(system, id);
  expect(
    trail.map((t) => t.to),
    label,
  ).toEqual(state.transitions.map((t) => t.to));
  expect(trail.filter((t) => t.to && isEnded(t.to as RelationshipStatus)).length, `${label}: end transitions`).toBeLessThanOrEqual(1);

  const grants = await system.db.roleGrant.count({ where: { relationshipId: id, revokedAt: null } });
  expect(grants > 0, `${label}: grants (${grants})`).toBe(status === 'active');
  expect((await access(partner, to)).allowed, `${label}: access check`).toBe(status === 'active');
  return { row, state, trail };
}

/** The audit log holds one `renewed` event per renewal, every one of them before the end. */
async function expectRenewalsBeforeEnd(system: TestSystem, id: string, renewals: number, label: string) {
  const events = await system.db.auditEvent.findMany({ where: { relationshipId: id }, orderBy: { id: 'asc' } });
  const renewed = events.filter((e) => e.action === 'relationship.renewed');
  expect(renewed, label).toHaveLength(renewals);
  const end = events.findIndex((e) => e.toStatus !== null && isEnded(e.toStatus as RelationshipStatus));
  expect(end, label).toBeGreaterThanOrEqual(0);
  expect(
    renewed.every((e) => events.indexOf(e) < end),
    `${label}: ${events.map((e) => e.action).join(', ')}`,
  ).toBe(true);
}

const isAccepted = (page: { status: number; text: string }) => page.status === 200 && page.text.includes('You authorized');
const refusedLink = (page: { status: number; text: string }, title: RegExp) => page.status === 410 && title.test(page.text);

/** The browser's way through the authorization form: Yes → Next, then the trial step when there is one. */
async function authorize(link: string, jar: Map<string, string>, trial: 'start' | 'skip' | undefined) {
  const opened = await getPage(link, jar);
  if (opened.status !== 200) return opened;
  const first = await postForm(link, { choice: 'yes' }, jar);
  if (!trial || first.status !== 200 || !first.text.includes('name="trial"')) return first;
  return postForm(link, { choice: 'yes', trial }, jar);
}

describe('races', () => {
  const system = useTestSystem('races', { env: { SIGN_IN_ATTEMPTS_PER_CLIENT: '1000' } });

  it('double accept from two browsers: one authorizes, the other is told the link was already used', { timeout: 240_000 }, async () => {
    const offsets = offsetsFor(1, RUNS, 150);
    const runs = await Promise.all(
      offsets.map(async (offsetMs, i) => {
        const withTrial = i % 2 === 0;
        const offered = await deliveredOffer(system, `dbl${i}`, withTrial ? { trial: { offer: 'Business Basic', seats: 5, days: 14 } } : {});
        // Browser A starts the trial, browser B skips it: the recorded choice tells which one won.
        const [a, b] = await raced(
          () => authorize(offered.link, new Map(), withTrial ? 'start' : undefined),
          () => authorize(offered.link, new Map(), withTrial ? 'skip' : undefined),
          offsetMs,
        );
        return { ...offered, withTrial, offsetMs, pages: [a, b] };
      }),
    );
    tally('double accept', runs.map((r) => `${r.withTrial ? 'trial' : 'plain'} ${r.pages.map((p) => p.status).join('/')}`));

    for (const run of runs) {
      const label = `seed ${SEED}, offset ${run.offsetMs} ms, ${run.withTrial ? 'with' : 'without'} trial: ${run.pages.map((p) => p.status).join('/')}`;
      for (const page of run.pages) expect(page.status, label).toBeLessThan(500);
      const winners = run.pages.filter(isAccepted);
      expect(winners, label).toHaveLength(1);
      const loser = run.pages.find((p) => !isAccepted(p));
      expect(loser && refusedLink(loser, /already used/), `${label}: ${loser?.text.slice(0, 300)}`).toBe(true);

      const { state, trail } = await expectConsistent(system, run, 'active', label);
      const winnerIsA = isAccepted(run.pages[0] ?? { status: 0, text: '' });
      if (run.withTrial) expect(state.trial?.status, label).toBe(winnerIsA ? 'active' : 'skipped');
      expect(trail.filter((t) => t.to === 'accepted'), label).toEqual([expect.objectContaining({ actor: 'customer', actorId: run.to.adminEmail })]);
    }

    await mailSettled(system);
    for (const run of runs) {
      expect(mailsTo(system, run.partner.contactEmail, subjects.accepted), run.id).toHaveLength(1);
      const trialReady = mailsTo(system, run.partner.contactEmail, subjects.trialReady).length + mailsTo(system, run.to.adminEmail, subjects.trialReady).length;
      expect(trialReady > 0, run.id).toBe(run.withTrial && (await stateOf(run.handle)).trial?.status === 'active');
      await run.handle.terminate('test cleanup');
    }
  });

  it('accept at the instant the invitation expires: accepted or expired, never both, and the partner told which', { timeout: 240_000 }, async () => {
    // Two fixed anchors (well before, well after) that must go one way each; the rest around the
    // instant, half of them just before it: past the page's own clock check, reaching the workflow
    // as its expiry timer fires.
    const offsets = [-1500, 1500, ...offsetsFor(2, Math.ceil(RUNS / 2), 400), ...offsetsFor(12, Math.ceil(RUNS / 2), 50).map((o) => o - 40)];
    const runs = await Promise.all(
      offsets.map(async (offsetMs, i) => {
        const offered = await deliveredOffer(system, `exp${i}`, { invitationTtl: '8s' });
        const { expiresAt } = (await stateOf(offered.handle)).invitation;
        const jar = new Map<string, string>();
        expect((await getPage(offered.link, jar)).status).toBe(200);
        await sleepUntil(Date.parse(expiresAt) + offsetMs);
        const firedMs = Date.now() - Date.parse(expiresAt);
        const page = await postForm(offered.link, { choice: 'yes' }, jar);
        return { ...offered, offsetMs, firedMs, page };
      }),
    );
    tally('accept at expiry', runs.map((r) => `${isAccepted(r.page) ? 'accepted' : 'expired'} (${r.firedMs < 0 ? 'before' : 'after'} the instant)`));

    for (const run of runs) {
      const accepted = isAccepted(run.page);
      const label = `seed ${SEED}, offset ${run.offsetMs} ms (sent at ${run.firedMs} ms): ${run.page.status}`;
      if (!accepted) expect(refusedLink(run.page, /has expired/), `${label}: ${run.page.text.slice(0, 300)}`).toBe(true);
      const { trail } = await expectConsistent(system, run, accepted ? 'active' : 'invitationExpired', label);
      expect(trail.map((t) => t.to)).toEqual(accepted ? ['invited', 'accepted', 'active'] : ['invited', 'invitationExpired']);
      if (run.offsetMs === -1500) expect(accepted, label).toBe(true);
      if (run.offsetMs === 1500) expect(accepted, label).toBe(false);
    }

    await mailSettled(system);
    for (const run of runs) {
      const accepted = isAccepted(run.page);
      expect(mailsTo(system, run.partner.contactEmail, subjects.accepted), run.id).toHaveLength(accepted ? 1 : 0);
      expect(mailsTo(system, run.partner.contactEmail, subjects.invitationExpired), run.id).toHaveLength(accepted ? 0 : 1);
      if (accepted) await run.handle.terminate('test cleanup');
    }
  });

  it('remove (customer page) against terminate (partner API): one ends it, the other is refused, one set of end emails', { timeout: 240_000 }, async () => {
    const offsets = offsetsFor(3, RUNS, 400);
    const runs = await Promise.all(
      offsets.map(async (offsetMs, i) => {
        const active = await onboardActiveRelationship(system, `rvt${i}`);
        const jar = await signIn(system, active.to.tenantDomain, active.to.adminEmail);
        const list = await getPage(`${system.baseUrl}/partner-relationships`, jar);
        const confirm = await postForm(`${system.baseUrl}/partner-relationships/${active.id}/delete`, { csrf: csrfIn(list.text) }, jar);
        expect(confirm.status).toBe(200);
        const [removed, terminated] = await raced(
          () => postForm(`${system.baseUrl}/partner-relationships/${active.id}/delete/confirm`, { csrf: csrfIn(confirm.text) }, jar),
          () => active.partner.api.post(`/api/v1/relationships/${active.id}/terminate`, { reason: 'Contract over' }),
          offsetMs,
        );
        return { ...active, offsetMs, removed, terminated };
      }),
    );
    tally('remove vs terminate', runs.map((r) => `remove ${r.removed.status} terminate ${r.terminated.status} ${JSON.stringify(r.terminated.json?.reason ?? null)}`));

    for (const run of runs) {
      const label = `seed ${SEED}, offset ${run.offsetMs} ms: remove ${run.removed.status}, terminate ${run.terminated.status} ${run.terminated.text.slice(0, 300)}`;
      const customerWon = run.removed.status === 200;
      const partnerWon = run.terminated.status === 200;
      expect(customerWon !== partnerWon, label).toBe(true);
      if (customerWon) {
        expect(run.terminated.status, label).toBe(409);
        expect(['alreadyEnded', 'invalidState'], label).toContain(run.terminated.json.reason);
      } else {
        expect(run.removed.status, label).toBe(409);
        expect(run.removed.text, label).toContain('already ended');
      }
      const { trail } = await expectConsistent(system, run, 'terminated', label);
      const end = trail.at(-1);
      const winner: Actor = customerWon ? { type: 'customer', id: run.to.adminEmail } : { type: 'partner', id: run.partner.id };
      expect({ actor: end?.actor, actorId: end?.actorId }, label).toEqual({ actor: winner.type, actorId: winner.id });
    }

    await mailSettled(system);
    for (const run of runs) {
      const customerWon = run.removed.status === 200;
      for (const address of [run.partner.contactEmail, run.to.adminEmail]) {
        expect(mailsTo(system, address, subjects.removed), `${run.id} ${address}`).toHaveLength(customerWon ? 1 : 0);
        expect(mailsTo(system, address, subjects.terminated), `${run.id} ${address}`).toHaveLength(customerWon ? 0 : 1);
      }
    }
  });

  it('terminate at the instant of a renewal: never lost across continue-as-new, nothing sent twice or after the end', { timeout: 240_000 }, async () => {
    const periodMs = 3000;
    // From just before the renewal instant to well into its activities and continue-as-new.
    const offsets = offsetsFor(4, RUNS, 200).map((o) => o + 100);
    const runs = await Promise.all(
      offsets.map(async (offsetMs, i) => {
        const active = await onboardActiveRelationship(system, `rnw${i}`, {
          duration: `${periodMs / 1000}s`,
          autoExtend: true,
          policy: { autoExtendBy: `${periodMs / 1000}s`, warningsBeforeEnd: [] },
        });
        // The first renewal instant still far enough ahead to aim at (renewals come every period).
        let renewAt = Date.parse(String(active.active.endsAt));
        while (renewAt + offsetMs < Date.now() + 300) renewAt += periodMs;
        await sleepUntil(renewAt + offsetMs);
        const terminated = await active.partner.api.post(`/api/v1/relationships/${active.id}/terminate`, { reason: 'Contract over' });
        return { ...active, offsetMs, terminated };
      }),
    );
    tally('terminate vs renewal', await Promise.all(runs.map(async (r) => `terminate ${r.terminated.status} after ${(await r.handle.result()).renewals} renewal(s)`)));

    for (const run of runs) {
      const label = `seed ${SEED}, offset ${run.offsetMs} ms: terminate ${run.terminated.status} ${run.terminated.text.slice(0, 300)}`;
      expect(run.terminated.status, label).toBe(200);
      const final = await run.handle.result();
      expect(final.status, label).toBe('terminated');
      const { state, trail } = await expectConsistent(system, run, 'terminated', label);
      expect(trail.map((t) => t.to), label).toEqual(['invited', 'accepted', 'active', 'terminated']);
      expect(trail.at(-1)?.actor, label).toBe('partner');
      await expectRenewalsBeforeEnd(system, run.id, state.renewals, label);
    }

    await mailSettled(system);
    for (const run of runs) {
      const state = await stateOf(run.handle);
      for (const address of [run.partner.contactEmail, run.to.adminEmail]) {
        const label = `seed ${SEED}, offset ${run.offsetMs} ms, ${address}`;
        const mails = system.smtp.messages.filter((m) => m.to.includes(address));
        const renewed = mails.filter((m) => subjects.renewed.test(m.parsed.subject ?? ''));
        const ended = mails.filter((m) => subjects.terminated.test(m.parsed.subject ?? ''));
        expect(renewed, label).toHaveLength(state.renewals);
        expect(ended, label).toHaveLength(1);
        // The catcher keeps arrival order: no renewal is announced after the end.
        const endIndex = mails.indexOf(ended[0] as (typeof mails)[number]);
        expect(renewed.every((m) => mails.indexOf(m) < endIndex), label).toBe(true);
      }
    }
  });

  it('resend against accept: either accepted (the resend refused) or the old link superseded and the new one works', { timeout: 240_000 }, async () => {
    const offsets = offsetsFor(5, RUNS, 150);
    const runs = await Promise.all(
      offsets.map(async (offsetMs, i) => {
        const offered = await deliveredOffer(system, `rsd${i}`);
        const jar = new Map<string, string>();
        expect((await getPage(offered.link, jar)).status).toBe(200);
        const [resent, page] = await raced(
          () => offered.partner.api.post(`/api/v1/relationships/${offered.id}/resend`),
          () => postForm(offered.link, { choice: 'yes' }, jar),
          offsetMs,
        );
        return { ...offered, offsetMs, resent, page };
      }),
    );
    tally('resend vs accept', runs.map((r) => `resend ${r.resent.status} accept ${r.page.status}`));

    for (const run of runs) {
      const label = `seed ${SEED}, offset ${run.offsetMs} ms: resend ${run.resent.status} ${run.resent.text.slice(0, 200)}, accept ${run.page.status}`;
      expect(run.page.status, label).toBeLessThan(500);
      const acceptedFirst = isAccepted(run.page);
      if (acceptedFirst) {
        expect(run.resent.status, label).toBe(409);
        expect(run.resent.json.reason, label).toBe('invalidState');
      } else {
        expect(run.resent.status, label).toBe(200);
        expect(refusedLink(run.page, /was replaced/), `${label}: ${run.page.text.slice(0, 300)}`).toBe(true);
        // The new link works; the old one stays dead.
        const fresh = await invitationLink(system, run.to, subjects.invitation, 2);
        expect(fresh).not.toBe(run.link);
        expect(isAccepted(await postForm(fresh, { choice: 'yes' })), label).toBe(true);
        expect((await getPage(run.link)).status, label).toBe(410);
      }
      const { trail } = await expectConsistent(system, run, 'active', label);
      expect(trail.map((t) => t.to), label).toEqual(['invited', 'accepted', 'active']);
    }

    // `accepted` is emailed after the relationship is active: wait for it before the queues settle.
    for (const run of runs) await mailTo(system, run.partner.contactEmail, subjects.accepted);
    await mailSettled(system);
    for (const run of runs) {
      const acceptedFirst = isAccepted(run.page);
      const invitations = mailsTo(system, run.to.adminEmail, subjects.invitation);
      expect(invitations, run.id).toHaveLength(acceptedFirst ? 1 : 2);
      expect(mailsTo(system, run.partner.contactEmail, subjects.accepted), run.id).toHaveLength(1);
      await run.handle.terminate('test cleanup');
    }
  });

  // The same two races with the worker late (down, backlogged): the step reaches Temporal before
  // the timer is due, the timer fires while nobody runs the workflow, and the worker then gets
  // both in one workflow task. The step came first, so it must win.
  it('accept sent just before the expiry while the worker is late: accepted, never accepted and then expired', { timeout: 180_000 }, async () => {
    const runs = await Promise.all(Array.from({ length: 4 }, (_, i) => deliveredOffer(system, `lateexp${i}`, { invitationTtl: '6s' })));
    const expiries = await Promise.all(runs.map(async (r) => Date.parse((await stateOf(r.handle)).invitation.expiresAt)));
    await system.stopWorker();
    let pages: { status: number; text: string }[];
    try {
      const answered = runs.map(async (r, i) => {
        await sleepUntil((expiries[i] ?? 0) - 400);
        return postForm(r.link, { choice: 'yes' });
      });
      await sleepUntil(Math.max(...expiries) + 600);
      await system.startWorker();
      pages = await Promise.all(answered);
    } catch (err) {
      await system.startWorker();
      throw err;
    }
    tally('accept with a late worker', pages.map((p) => (isAccepted(p) ? 'accepted' : `refused ${p.status}`)));
    for (const [i, run] of runs.entries()) {
      const page = pages[i] ?? { status: 0, text: '' };
      const label = `late worker, relationship ${i}: ${page.status}`;
      expect(page.status, label).toBeLessThan(500);
      const accepted = isAccepted(page);
      if (!accepted) expect(refusedLink(page, /has expired/), `${label}: ${page.text.slice(0, 300)}`).toBe(true);
      const settled = await waitFor(
        async () => {
          const s = await stateOf(run.handle);
          return isEnded(s.status) || s.status === 'active' ? s : undefined;
        },
        { what: `${label}: a settled state` },
      );
      expect(settled.transitions.map((t) => t.to), label).toEqual(accepted ? ['invited', 'accepted', 'active'] : ['invited', 'invitationExpired']);
      await expectConsistent(system, run, accepted ? 'active' : 'invitationExpired', label);
      if (accepted) await run.handle.terminate('test cleanup');
    }
  });

  it('terminate sent just before the renewal while the worker is late: terminated, no renewal after it', { timeout: 180_000 }, async () => {
    const runs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        onboardActiveRelationship(system, `laternw${i}`, { duration: '6s', autoExtend: true, policy: { autoExtendBy: '6s', warningsBeforeEnd: [] } }),
      ),
    );
    const ends = runs.map((r) => Date.parse(String(r.active.endsAt)));
    await system.stopWorker();
    let answers: Awaited<ReturnType<Partner['api']['post']>>[];
    try {
      const terminated = runs.map(async (r, i) => {
        await sleepUntil((ends[i] ?? 0) - 400);
        return r.partner.api.post(`/api/v1/relationships/${r.id}/terminate`, { reason: 'Contract over' });
      });
      await sleepUntil(Math.max(...ends) + 600);
      await system.startWorker();
      answers = await Promise.all(terminated);
    } catch (err) {
      await system.startWorker();
      throw err;
    }
    tally('terminate with a late worker', answers.map((a) => `terminate ${a.status}`));
    for (const [i, run] of runs.entries()) {
      const answer = answers[i];
      const label = `late worker, relationship ${i}: terminate ${answer?.status} ${answer?.text.slice(0, 200)}`;
      expect(answer?.status, label).toBe(200);
      const final = await run.handle.result();
      expect(final.status, label).toBe('terminated');
      expect(final.renewals, label).toBe(0);
      expect(Date.parse(String(final.endsAt)), label).toBe(Date.parse(String(run.active.endsAt)));
      await expectConsistent(system, run, 'terminated', label);
      await expectRenewalsBeforeEnd(system, run.id, 0, label);
    }
    await mailSettled(system);
    for (const run of runs) {
      for (const address of [run.partner.contactEmail, run.to.adminEmail]) {
        expect(mailsTo(system, address, subjects.renewed), address).toHaveLength(0);
        expect(mailsTo(system, address, subjects.terminated), address).toHaveLength(1);
      }
    }
  });

  it('removed right after accepting, before the trial starts: stays terminated, never provisioned or activated', async () => {
    const { partner, to, id, handle } = await deliveredOffer(system, 'quickremove', { trial: { offer: 'Business Basic', seats: 5, days: 14 } });
    const [invitationId] = (await stateOf(handle)).invitation.validIds;
    if (!invitationId) throw new Error('no invitation issued');
    const actor = { type: 'customer' as const, id: to.adminEmail };

    const accepted = await handle.executeUpdate(acceptUpdate, { args: [{ invitationId, actor, startTrial: true }] });
    expect(accepted.status).toBe('accepted');
    const removed = await handle.executeUpdate(removeUpdate, { args: [{ actor, reason: 'Changed my mind' }] });
    expect(removed.status).toBe('terminated');

    const final = await handle.result();
    expect(final.status).toBe('terminated');
    expect(final.transitions.map((t) => t.to)).toEqual(['invited', 'accepted', 'terminated']);
    await waitForStatus(partner, id, 'terminated');
    await expectAuditPath(system, id, ['invited', 'accepted', 'terminated']);
    expect(await system.db.roleGrant.count({ where: { relationshipId: id, revokedAt: null } })).toBe(0);
    expect((await readModel(partner, id)).endedAt).toBeTruthy();
  });
});
