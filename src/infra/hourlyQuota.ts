import type { Redis } from 'ioredis';

// A count per clock hour in Redis, taken atomically: used for the mail quotas
// (per partner, per recipient). The key expires after two hours, so old hours
// clean themselves up.

export const HOUR_MS = 3_600_000;

const TAKE_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** The number of the clock hour `now` falls in, for key names. */
export const hourOf = (now: number) => Math.floor(now / HOUR_MS);

/** Takes one from this hour's count under `key` if fewer than `perHour` were taken; true when taken. */
export async function takeFromHour(redis: Redis, key: string, perHour: number): Promise<boolean> {
  return (await redis.eval(TAKE_SCRIPT, 1, key, String(perHour), String(2 * HOUR_MS))) === 1;
}
