import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createAuthFailures } from '../../src/http/authFailures.js';
import { AppError } from '../../src/http/errors.js';
import type { RateLimit } from '../../src/http/rateLimits.js';

// What one API process remembers of the shared failure count
// (src/http/authFailures.ts), on a count kept in memory here: addresses are
// refused only after the count said they are blocked, until their window
// ends, and the memory of them stays bounded. Across processes on a real
// Redis: test/api/limits.test.ts.

const WINDOW_MS = 60_000;

/** A request from `address`, as the socket would say it. */
function from(address: string): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: address });
  return new IncomingMessage(socket);
}

/** A shared count of `points` failures per address that records how often it is asked; `msBeforeReset` says when windows end. */
function countOf(points: number, msBeforeReset: () => number) {
  const counts = new Map<string, number>();
  let calls = 0;
  const limit: RateLimit = {
    consume: () => Promise.reject(new Error('not used for failures')),
    count(key) {
      calls++;
      const used = (counts.get(key) ?? 0) + 1;
      counts.set(key, used);
      return Promise.resolve({ remaining: Math.max(0, points - used), msBeforeReset: msBeforeReset() });
    },
    refusal: (ms) => new AppError('rateLimited', 'too many', { retryAfterSeconds: Math.ceil(ms / 1000) }),
  };
  return { limit, calls: () => calls };
}

async function refused(check: Promise<void>): Promise<boolean> {
  try {
    await check;
    return false;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('rateLimited');
    return true;
  }
}

describe('auth failures, one process', () => {
  it('refuses an address only once the count said it is used up, until the window ends, without asking the count', async () => {
    let clock = 0;
    const count = countOf(3, () => WINDOW_MS - (clock % WINDOW_MS));
    const failures = createAuthFailures(count.limit, () => clock);
    const guesser = from('203.0.113.5');
    for (let i = 0; i < 3; i++) {
      expect(await refused(failures.refuseIfBlocked(guesser))).toBe(false);
      await failures.recordFailure(guesser);
    }
    expect(count.calls()).toBe(3);
    clock = 10_000;
    const refusal = failures.refuseIfBlocked(guesser);
    await expect(refusal).rejects.toMatchObject({ extras: { retryAfterSeconds: 50 } });
    expect(await refused(failures.refuseIfBlocked(from('203.0.113.6')))).toBe(false);
    clock = WINDOW_MS;
    expect(await refused(failures.refuseIfBlocked(guesser))).toBe(false);
    // Refusing and letting in never asked the count.
    expect(count.calls()).toBe(3);
  });

  it('remembers at most 10,000 addresses: expired ones are swept first, then the oldest is forgotten', async () => {
    let clock = 0;
    let windowLeft = WINDOW_MS;
    const count = countOf(1, () => windowLeft);
    const failures = createAuthFailures(count.limit, () => clock);
    /** The `i`th address of batch `batch`. */
    const address = (batch: number, i: number) => `10.${batch}.${i >> 8}.${i & 255}`;
    const block = async (batch: number, n: number) => {
      for (let i = 0; i < n; i++) await failures.recordFailure(from(address(batch, i)));
    };
    const isRefused = (batch: number, i: number) => refused(failures.refuseIfBlocked(from(address(batch, i))));

    // 9,999 addresses blocked for the window, then one whose window (begun earlier) ends in a second.
    await block(1, 9_999);
    windowLeft = 1_000;
    await block(2, 1);
    windowLeft = WINDOW_MS;
    clock = 2_000;
    // Full: the next one sweeps the expired address, and the oldest live one is kept.
    await block(3, 1);
    expect(await isRefused(3, 0)).toBe(true);
    expect(await isRefused(1, 0)).toBe(true);

    // Full of live addresses: one more drops the oldest, which then costs one more guess to learn again.
    await block(4, 1);
    expect(await isRefused(4, 0)).toBe(true);
    expect(await isRefused(1, 0)).toBe(false);
    expect(await isRefused(1, 1)).toBe(true);
  });
});
