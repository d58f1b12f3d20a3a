import type { Redis } from 'ioredis';
import { customerRequested, type MailJob } from './mailJob.js';

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
// minute still inside the window. One round trip; keys expire on their own.
const COUNT_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
return {current, previous}
`;

export async function mailPriority(redis: Redis, prefix: string, job: MailJob, now = Date.now()): Promise<number> {
  if (customerRequested.has(job.template)) return TOP_PRIORITY;
  const sender = job.sender ?? 'system';
  const minute = Math.floor(now / WINDOW_MS);
  const base = `${prefix}:mail-volume:${sender}`;
  const [current, previous] = (await redis.eval(COUNT_SCRIPT, 2, `${base}:${minute}`, `${base}:${minute - 1}`, String(2 * WINDOW_MS))) as [number, number];
  const stillInWindow = 1 - (now % WINDOW_MS) / WINDOW_MS;
  return Math.min(MAX_PRIORITY, TOP_PRIORITY + current + Math.floor(previous * stillInWindow));
}
