import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { AppError } from '../../src/http/errors.js';
import { createLeasedRateLimit, type LeasedRateLimit } from '../../src/http/leasedRateLimit.js';

// The access check's budgets (src/http/leasedRateLimit.ts) on the run's real
// Redis: several limiters on one prefix stand for several API processes.

const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
afterAll(() => redis.quit());

/** How many of `n` takes of one point each succeed, run concurrently in rounds of `concurrency`; refusals must be 429s. */
async function spend(limit: LeasedRateLimit, key: string, n: number, size = 1): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    try {
      await limit.take(key, size);
      ok += size;
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('rateLimited');
    }
  }
  return ok;
}

describe('leased rate limit', () => {
  const options = (prefix: string, points: number, extra: Partial<Parameters<typeof createLeasedRateLimit>[0]> = {}) => ({
    redis,
    keyPrefix: prefix,
    points,
    windowSeconds: 3600,
    counts: 'checks',
    ...extra,
  });

  it('one process: exactly the budget, then 429 with a Retry-After up to the end of the window', async () => {
    const limit = createLeasedRateLimit(options(`test:leased:${randomUUID()}`, 250));
    expect(await spend(limit, 'a', 300)).toBe(250);
    try {
      await limit.take('a', 1);
      expect.unreachable('the budget is spent');
    } catch (err) {
      const retry = (err as AppError).extras.retryAfterSeconds as number;
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(3600);
    }
    // Another key has its own budget.
    expect(await spend(limit, 'b', 10)).toBe(10);
  });

  it('three processes sharing one budget never grant more than it, and lose at most two leases to each other', async () => {
    const prefix = `test:leased:${randomUUID()}`;
    const lease = 20;
    const processes = [0, 1, 2].map(() => createLeasedRateLimit(options(prefix, 500, { lease })));
    // Interleaved, as requests spread over processes behind a load balancer.
    const granted = await Promise.all(processes.map((limit) => spend(limit, 'shared', 400)));
    const total = granted.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(500);
    expect(total).toBeGreaterThanOrEqual(500 - 2 * lease);
  });

  it('a take larger than a lease (a batch) is granted whole or refused whole', async () => {
    const limit = createLeasedRateLimit(options(`test:leased:${randomUUID()}`, 150, { lease: 10 }));
    expect(await spend(limit, 'k', 1, 100)).toBe(100);
    expect(await spend(limit, 'k', 1, 100)).toBe(0);
    expect(await spend(limit, 'k', 50, 1)).toBe(50);
  });

  it('costs one Redis round trip per lease, not per take', async () => {
    const prefix = `test:leased:${randomUUID()}`;
    const limit = createLeasedRateLimit(options(prefix, 10_000, { lease: 100 }));
    const counted = new Redis(inject('redisUrl'));
    let commands = 0;
    const monitor = await counted.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'incrby' && args[1]?.startsWith(prefix)) commands++;
    });
    try {
      expect(await spend(limit, 'k', 1000)).toBe(1000);
      // Wait for MONITOR to have relayed every command sent.
      await redis.ping();
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(commands).toBeGreaterThanOrEqual(10);
      expect(commands).toBeLessThanOrEqual(12);
    } finally {
      monitor.disconnect();
      counted.disconnect();
    }
  });

  it('sends one command per lease (issue 13: a MULTI/EXEC of INCRBY and PEXPIRE was four)', async () => {
    const client = new Redis(inject('redisUrl'));
    // Connected first, so the connection's own set-up is not counted.
    await client.ping();
    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
      sent.push(args[0].name);
      return send(...args);
    };
    try {
      const limit = createLeasedRateLimit({ ...options(`test:leased:${randomUUID()}`, 10_000, { lease: 100 }), redis: client });
      expect(await spend(limit, 'k', 300)).toBe(300);
      // Three leases cover the takes; the next may be asked for ahead, before the last runs out.
      expect(new Set(sent)).toEqual(new Set(['eval']));
      expect(sent.length).toBeGreaterThanOrEqual(3);
      expect(sent.length).toBeLessThanOrEqual(4);
    } finally {
      client.disconnect();
    }
  });

  it('with Redis unreachable, each process still holds the budget alone', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    const limit = createLeasedRateLimit({ redis: dead, keyPrefix: 'test:leased:dead', points: 30, windowSeconds: 60, counts: 'checks' });
    expect(await spend(limit, 'k', 40)).toBe(30);
    dead.disconnect();
  });
});
