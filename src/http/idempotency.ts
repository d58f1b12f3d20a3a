import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AppError } from './errors.js';
import { withRedis } from './redisAvailability.js';

// Idempotency-Key for POSTs (after draft-ietf-httpapi-idempotency-key-header):
// the first request with a key claims it in Redis with SET NX; a repeat with the
// same method, path and body gets the stored answer, a different request under
// the same key gets 422, and a repeat while the first is still running gets
// 409. Only successful answers are kept: a failed request changed nothing, so
// retrying it under the same key must be allowed to run again.

export interface ApiResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** What a replay answers, when it must differ (a secret shown once is not kept in Redis). */
  replay?: ApiResult;
}

type StoredRecord = { fingerprint: string; state: 'pending' } | { fingerprint: string; state: 'done'; response: ApiResult };

const storedRecordSchema = z.union([
  z.object({ fingerprint: z.string(), state: z.literal('pending') }),
  z.object({
    fingerprint: z.string(),
    state: z.literal('done'),
    response: z.object({ status: z.number(), body: z.unknown(), headers: z.record(z.string(), z.string()).optional() }),
  }),
]);

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be 1-200 visible ASCII characters');

/** While the first request runs; short, so a crashed request does not block its key for a day. */
const PENDING_TTL_MS = 60_000;

/** JSON with sorted keys, so the same body with its fields in another order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sendResult(res: Response, result: ApiResult): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.status(result.status).json(result.body);
}

export interface IdempotencyOptions {
  redis: Redis;
  keyPrefix: string;
  ttlSeconds: number;
}

export function createIdempotency({ redis, keyPrefix, ttlSeconds }: IdempotencyOptions) {
  /**
   * Runs `handler` at most once per (caller, Idempotency-Key) and answers with its
   * result, or with the stored result of the first run. Without the header it just runs.
   *
   * The handler is given the operation's id (caller, key and request, hashed): the stored answer
   * is lost if the process dies between the change and keeping it, so a change that must not
   * happen twice derives its own identity from this id (the new relationship's id, a workflow
   * Update's id) and a retry finds the first one instead of making a second.
   */
  async function run(req: Request, res: Response, callerId: string, handler: (operationId: string | undefined) => Promise<ApiResult>): Promise<void> {
    const header = req.get('idempotency-key');
    if (header === undefined) return sendResult(res, await handler(undefined));
    const parsedKey = idempotencyKeySchema.safeParse(header);
    if (!parsedKey.success) throw new AppError('validation', 'The Idempotency-Key header must be 1-200 visible ASCII characters.');

    const redisKey = `${keyPrefix}:idempotency:${callerId}:${createHash('sha256').update(parsedKey.data).digest('hex')}`;
    const fingerprint = createHash('sha256')
      .update(`${req.method} ${req.baseUrl}${req.path}\n${canonicalJson(req.body ?? null)}`)
      .digest('hex');

    const pending: StoredRecord = { fingerprint, state: 'pending' };
    for (let attempt = 1; ; attempt++) {
      const claimed = await withRedis('check the Idempotency-Key', () => redis.set(redisKey, JSON.stringify(pending), 'PX', PENDING_TTL_MS, 'NX'));
      if (claimed === 'OK') break;
      const raw = await withRedis('check the Idempotency-Key', () => redis.get(redisKey));
      // Gone between SET and GET: the first request failed and released the key; claim it again.
      if (raw === null && attempt < 3) continue;
      const parsed = raw === null ? undefined : storedRecordSchema.safeParse(JSON.parse(raw));
      if (!parsed?.success) {
        throw new AppError('idempotencyKeyInProgress', 'A request with this Idempotency-Key is still running.', { retryAfterSeconds: 1 });
      }
      const record = parsed.data;
      if (record.fingerprint !== fingerprint) {
        throw new AppError('idempotencyKeyReused', 'This Idempotency-Key was already used for a different request.');
      }
      if (record.state === 'pending') {
        throw new AppError('idempotencyKeyInProgress', 'A request with this Idempotency-Key is still running.', { retryAfterSeconds: 1 });
      }
      res.setHeader('Idempotent-Replayed', 'true');
      return sendResult(res, record.response);
    }

    // Best effort: a key Redis could not release expires with its short pending lease.
    const release = () => withRedis('release the Idempotency-Key', () => redis.del(redisKey)).catch(() => undefined);
    let result: ApiResult;
    try {
      result = await handler(createHash('sha256').update(`${callerId}\n${parsedKey.data}\n${fingerprint}`).digest('hex'));
    } catch (err) {
      await release();
      throw err;
    }
    if (result.status >= 200 && result.status < 300) {
      const { replay, ...response } = result;
      const done: StoredRecord = { fingerprint, state: 'done', response: replay ?? response };
      // The change is made and must be answered; if Redis cannot keep the answer now, a retry
      // runs the call again (a second create is then refused by the live-offer index).
      await withRedis('keep the answer', () => redis.set(redisKey, JSON.stringify(done), 'EX', ttlSeconds)).catch(() => undefined);
    } else {
      await release();
    }
    sendResult(res, result);
  }

  return { run };
}

export type Idempotency = ReturnType<typeof createIdempotency>;
