import type { Redis } from 'ioredis';

// A count per clock hour in Redis, taken atomically: used for the mail quotas
// (per partner, per recipient). The key expires after two hours, so old hours
// clean themselves up.

export const HOUR_MS = 3_600_000;

/**
 * Lua that takes one from the hour's count under `key` when fewer than `limit` were taken, and
 * leaves `taken` true or false; the three are Lua expressions (KEYS[n], ARGV[n]). Shared so a
 * script that does more in the same round trip (mailAdmission.ts) counts exactly as this one.
 */
export const takeFromHourLua = (key: string, limit: string, ttlMs: string) => `
local taken = tonumber(redis.call('GET', ${key}) or '0') < tonumber(${limit})
if taken then
  redis.call('INCR', ${key})
  redis.call('PEXPIRE', ${key}, ${ttlMs})
end
`;

const TAKE_SCRIPT = `${takeFromHourLua('KEYS[1]', 'ARGV[1]', 'ARGV[2]')}
if taken then return 1 else return 0 end`;

/** How long an hour's count is kept: the hour itself and the next. */
export const HOUR_KEY_TTL_MS = 2 * HOUR_MS;

/** The number of the clock hour `now` falls in, for key names. */
export const hourOf = (now: number) => Math.floor(now / HOUR_MS);

/** Takes one from this hour's count under `key` if fewer than `perHour` were taken; true when taken. */
export async function takeFromHour(redis: Redis, key: string, perHour: number): Promise<boolean> {
  return (await redis.eval(TAKE_SCRIPT, 1, key, String(perHour), String(HOUR_KEY_TTL_MS))) === 1;
}
