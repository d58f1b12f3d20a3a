import type { Redis } from 'ioredis';
import { HOUR_KEY_TTL_MS, takeFromHourLua } from '../infra/hourlyQuota.js';
import { customerRequested, type MailJob } from './mailJob.js';
import { heldUntil, recipientQuotaKey } from './recipientQuota.js';

// What an email gets as it is queued, in one Redis round trip: its priority, and whether its
// recipient's hourly quota (recipientQuota.ts) lets it go now.
//
// Fairness under one global send rate. BullMQ serves lower `priority` numbers
// first (FIFO within one number). Emails a customer is waiting for at the screen
// (sign-in, domain verification, admin confirmation) get 1. Every other email gets
// 1 + how many emails its sender (the partner) queued in about the last minute, so
// a burst from partner A numbers its 500th email 501 while partner B's first is 2:
// B's invitation goes out after at most a few of A's instead of after all of them.

export const TOP_PRIORITY = 1;
/** BullMQ allows up to 2^21; beyond this a sender is simply "very busy". */
const MAX_PRIORITY = 1_000_000;
const WINDOW_MS = 60_000;

// A sliding minute from two fixed ones: this minute's count plus the share of the last
// minute still inside the window. Keys expire on their own. KEYS[3], when given, is the
// recipient's count for the hour.
const ADMIT_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if #KEYS < 3 then return {current, previous, 1} end
${takeFromHourLua('KEYS[3]', 'ARGV[2]', 'ARGV[3]')}
if taken then return {current, previous, 1} else return {current, previous, 0} end
`;

export interface MailAdmission {
  priority: number;
  /** Null: may go now. A timestamp: the recipient had its share this hour; the job waits until then. */
  heldUntil: number | null;
}

export async function admitMail(redis: Redis, prefix: string, job: MailJob, recipientPerHour: number, now = Date.now()): Promise<MailAdmission> {
  if (customerRequested.has(job.template)) return { priority: TOP_PRIORITY, heldUntil: null };
  const sender = job.sender ?? 'system';
  const minute = Math.floor(now / WINDOW_MS);
  const base = `${prefix}:mail-volume:${sender}`;
  const recipientKey = recipientQuotaKey(prefix, job, now);
  const keys = [`${base}:${minute}`, `${base}:${minute - 1}`, ...(recipientKey ? [recipientKey] : [])];
  const [current, previous, admitted] = (await redis.eval(ADMIT_SCRIPT, keys.length, ...keys, String(2 * WINDOW_MS), String(recipientPerHour), String(HOUR_KEY_TTL_MS))) as [number, number, number];
  const stillInWindow = 1 - (now % WINDOW_MS) / WINDOW_MS;
  return {
    priority: Math.min(MAX_PRIORITY, TOP_PRIORITY + current + Math.floor(previous * stillInWindow)),
    heldUntil: admitted === 1 ? null : heldUntil(now),
  };
}
