import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessCheck, Answer, AskedQuestion } from '../access/accessCheck.js';
import { accessBatchSchema, accessQuerySchema } from '../access/accessQuestions.js';
import { bearerTokenOf } from '../http/auth.js';
import type { AuthFailures } from '../http/authFailures.js';
import { AppError, sendProblem } from '../http/errors.js';
import { readJsonBody } from '../http/rawJsonBody.js';
import type { Logger } from '../infra/logger.js';
import { constantTimeEqual } from '../infra/tokens.js';

// The access check, served on node:http without Express: it is the most
// frequent request by far, and Express's per-request work alone costs more
// than the rest of the check (measured: docs/access.md). The composition root
// puts `serve` in front of the Express app; the Express routes
// (accessRoutes.ts) hand the same two paths, spelled otherwise (a trailing
// slash, other letter case), to the same handler. Per request: the bearer key,
// the query or the JSON body validated by the same schemas as everywhere,
// ONE SQL statement (src/access/accessGrants.ts), the check budget (most of
// the time no Redis round trip), problem+json failures as elsewhere.

export type AccessKind = 'single' | 'batch';

/** The paths of the access check (under /api/v1), exactly as the fast path matches them. */
export const ACCESS_PATHS: Record<AccessKind, string> = { single: '/access', batch: '/access/batch' };

export interface AccessEndpointDeps {
  access: AccessCheck;
  authFailures: AuthFailures;
  operatorToken: string;
  log: Logger;
}

/** Which access request this is, when its method and path are exactly one of the two. */
export function accessKindOf(req: IncomingMessage): AccessKind | undefined {
  const url = req.url ?? '';
  const end = url.indexOf('?');
  const path = end < 0 ? url : url.slice(0, end);
  if (req.method === 'GET' && path === `/api/v1${ACCESS_PATHS.single}`) return 'single';
  if (req.method === 'POST' && path === `/api/v1${ACCESS_PATHS.batch}`) return 'batch';
  return undefined;
}

/** The query string as an object; a name given twice becomes a list (which the schema refuses). */
function queryOf(url: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  const at = url.indexOf('?');
  if (at < 0) return query;
  for (const [name, value] of new URLSearchParams(url.slice(at + 1))) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}

function sendJson(res: ServerResponse, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

export function createAccessEndpoint({ access, authFailures, operatorToken, log }: AccessEndpointDeps) {
  /** The bearer key, checked before the question is even read: no key, no validation messages. */
  function keyOf(req: IncomingMessage): string {
    const key = bearerTokenOf(req);
    if (!key) throw new AppError('unauthorized', 'Send an Authorization: Bearer <key> header.');
    if (constantTimeEqual(key, operatorToken)) throw new AppError('forbidden', 'Only a partner API key or an enforcer key may ask this.');
    return key;
  }

  /**
   * The answers for this key. An unknown key counts as a failed authentication
   * (and is 429 once the address has used its failures up); a live key is
   * answered without that Redis read: a key is 256 random bits, so answering
   * live keys tells a guesser nothing.
   */
  async function answer(req: IncomingMessage, key: string, questions: AskedQuestion[], batch: boolean): Promise<Answer[]> {
    const answers = await access.ask(key, questions, { batch });
    if (!answers) {
      await authFailures.refuseIfBlocked(req);
      await authFailures.recordFailure(req);
      throw new AppError('unauthorized', 'The API key is not valid.');
    }
    return answers;
  }

  async function respond(req: IncomingMessage, res: ServerResponse, kind: AccessKind): Promise<void> {
    const key = keyOf(req);
    if (kind === 'single') {
      const question = accessQuerySchema.parse(queryOf(req.url ?? ''));
      const [first] = await answer(req, key, [question], false);
      return sendJson(res, first);
    }
    const { checks } = accessBatchSchema.parse(await readJsonBody(req));
    const answers = await answer(req, key, checks, true);
    sendJson(res, { results: checks.map((check, n) => ({ ...check, ...answers[n] })) });
  }

  /** Answers one access request, success or problem; never throws. */
  async function serve(req: IncomingMessage, res: ServerResponse, kind: AccessKind): Promise<void> {
    // An answer is true only at this moment: no cache on the way may keep it.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    try {
      await respond(req, res, kind);
    } catch (err) {
      sendProblem(req, res, err, log);
    }
  }

  return { serve };
}

export type AccessEndpoint = ReturnType<typeof createAccessEndpoint>;
