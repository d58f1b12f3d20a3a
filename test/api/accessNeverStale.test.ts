import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '../support/apiProcess.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { uniqueDomain } from './apiHarness.js';
import { createEnforcer, csrfIn, customerFlow } from './customerFlow.js';

// "Never a new enemy" (issue 18): once a customer's removal, a partner's
// terminate, an operator's pause has returned, or a relationship's end time
// has passed, no access check anywhere answers yes. Two API processes (this
// one and a second, spawned) answer checks sent continuously, single and
// batched, through every end; each end is made through one process or the
// other. Counted: checks SENT after the end returned that answered yes: 0.

/** One answered check: when it was sent and answered (ms, one clock), about which relationship, and the answer. */
interface Observation {
  target: number;
  sentAt: number;
  answeredAt: number;
  allowed: boolean;
}

const now = () => performance.timeOrigin + performance.now();
const ROLE = 'user-administrator';

describe('no new enemy: an end that has returned is a "no" from every API process at once', () => {
  const system = useTestSystem('access-never-stale');
  const flow = customerFlow(system);
  let second: ApiProcess;

  beforeAll(async () => {
    second = await startApiProcess(system.config);
  }, 90_000);
  afterAll(() => second?.stop());

  it('checks run continuously through a removal, a terminate, a pause and an expiry: 0 yes after each returned', async () => {
    const partner = await flow.newPartner('Ending partner');
    const pausedPartner = await flow.newPartner('Paused partner');
    const { key: enforcerKey } = await createEnforcer(flow.api, system.operatorToken, { name: 'Watcher' });
    const removed = await flow.acceptedOffer(partner, uniqueDomain('stale-removed'));
    const terminated = await flow.acceptedOffer(partner, uniqueDomain('stale-terminated'));
    const paused = await flow.acceptedOffer(pausedPartner, uniqueDomain('stale-paused'));
    // Long enough to be seen as a yes first; ended by its end time, whatever the worker does when.
    const expiring = await flow.acceptedOffer(partner, uniqueDomain('stale-expiring'), { duration: '12s' });
    const targets = [
      { name: 'removed by the customer', partnerId: partner.id, ...removed, endedAt: Number.POSITIVE_INFINITY },
      { name: 'terminated by the partner', partnerId: partner.id, ...terminated, endedAt: Number.POSITIVE_INFINITY },
      { name: 'paused by the operator', partnerId: pausedPartner.id, ...paused, endedAt: Number.POSITIVE_INFINITY },
      { name: 'past its end time', partnerId: partner.id, ...expiring, endedAt: Number.POSITIVE_INFINITY },
    ];
    const endsAt = await system.db.relationship.findUniqueOrThrow({ where: { id: expiring.id }, select: { endsAt: true } });
    const expiringTarget = targets[3];
    if (!expiringTarget || !endsAt.endsAt) throw new Error('the expiring relationship has no end time');
    expiringTarget.endedAt = endsAt.endsAt.getTime();

    const bases = [system.baseUrl, second.url];
    const observations: Observation[] = [];
    const errors: string[] = [];
    let running = true;
    /** One checker: round-robin over targets and processes, alternating single checks and batches of every target. */
    const checker = async (seed: number) => {
      for (let n = seed; running; n++) {
        const base = bases[n % bases.length] ?? system.baseUrl;
        const sentAt = now();
        try {
          if (n % 3 === 0) {
            const res = await fetch(`${base}/api/v1/access/batch`, {
              method: 'POST',
              headers: { authorization: `Bearer ${enforcerKey}`, 'content-type': 'application/json' },
              body: JSON.stringify({ checks: targets.map((t) => ({ partner: t.partnerId, tenant: t.tenantDomain, role: ROLE })) }),
            });
            const body = (await res.json()) as { results?: { allowed: boolean }[] };
            const answeredAt = now();
            if (res.status !== 200 || !body.results) throw new Error(`batch ${res.status}: ${JSON.stringify(body)}`);
            body.results.forEach((r, target) => observations.push({ target, sentAt, answeredAt, allowed: r.allowed }));
          } else {
            const target = n % targets.length;
            const t = targets[target];
            if (!t) continue;
            const query = new URLSearchParams({ partner: t.partnerId, tenant: t.tenantDomain, role: ROLE });
            const res = await fetch(`${base}/api/v1/access?${query.toString()}`, { headers: { authorization: `Bearer ${enforcerKey}` } });
            const body = (await res.json()) as { allowed?: boolean };
            const answeredAt = now();
            if (res.status !== 200 || typeof body.allowed !== 'boolean') throw new Error(`check ${res.status}: ${JSON.stringify(body)}`);
            observations.push({ target, sentAt, answeredAt, allowed: body.allowed });
          }
        } catch (err) {
          errors.push(String(err));
          if (errors.length > 20) running = false;
        }
      }
    };
    const checkers = Array.from({ length: 6 }, (_, seed) => checker(seed));
    const markEnded = (i: number) => {
      const target = targets[i];
      if (target) target.endedAt = now();
    };
    const yesSeen = (target: number) => observations.some((o) => o.target === target && o.allowed);

    try {
      await waitFor(() => targets.every((_t, i) => yesSeen(i)), { what: 'a yes for every relationship before it ends', timeoutMs: 20_000 });

      // Each end through one process or the other; `endedAt` is when its answer was back.
      const removal = (async () => {
        const { agent } = await flow.signIn(removed.tenantDomain);
        const list = await agent.get('/partner-relationships');
        const confirm = await agent.post(`/partner-relationships/${removed.id}/delete`).type('form').send({ csrf: csrfIn(list.text) });
        const done = await agent.post(`/partner-relationships/${removed.id}/delete/confirm`).type('form').send({ csrf: csrfIn(confirm.text) });
        expect(done.status).toBe(200);
        markEnded(0);
      })();
      const termination = (async () => {
        const res = await fetch(`${second.url}/api/v1/relationships/${terminated.id}/terminate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${partner.key}`, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(res.status, await res.text()).toBe(200);
        markEnded(1);
      })();
      const pause = (async () => {
        const res = await fetch(`${second.url}/api/v1/admin/partners/${pausedPartner.id}/pause`, {
          method: 'POST',
          headers: { authorization: `Bearer ${system.operatorToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'Suspected breach' }),
        });
        expect(res.status, await res.text()).toBe(200);
        markEnded(2);
      })();
      await Promise.all([removal, termination, pause]);

      // Enough checks after every end, the expiry's included.
      const afterEnd = (i: number) => observations.filter((o) => o.target === i && o.sentAt > (targets[i]?.endedAt ?? Infinity)).length;
      await waitFor(() => targets.every((_t, i) => afterEnd(i) >= 20), { what: '20 checks after every end', timeoutMs: 30_000 });
    } finally {
      running = false;
      await Promise.all(checkers);
    }

    expect(errors, errors.slice(0, 3).join('\n')).toEqual([]);
    const yesAfterEnd = observations.filter((o) => o.allowed && o.sentAt > (targets[o.target]?.endedAt ?? Infinity));
    expect(
      yesAfterEnd.map((o) => `${targets[o.target]?.name}: sent ${(o.sentAt - (targets[o.target]?.endedAt ?? 0)).toFixed(1)} ms after the end`),
    ).toEqual([]);
    // The window the promise is about was really exercised: checks in flight while each end ran, and many after.
    for (const [i, t] of targets.entries()) {
      const seen = observations.filter((o) => o.target === i);
      expect(seen.filter((o) => o.sentAt > t.endedAt).length, t.name).toBeGreaterThanOrEqual(20);
      expect(seen.filter((o) => o.sentAt <= t.endedAt && o.allowed).length, t.name).toBeGreaterThan(0);
    }
  }, 120_000);
});
