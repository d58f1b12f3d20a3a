import { Router, type NextFunction, type Request, type Response } from 'express';
import type { AccessCheck, Answer, AskedQuestion } from '../access/accessCheck.js';
import { accessBatchSchema, accessQuerySchema } from '../access/accessQuestions.js';
import { bearerTokenOf } from '../http/auth.js';
import type { AuthFailures } from '../http/authFailures.js';
import { AppError } from '../http/errors.js';
import { jsonBodies } from '../http/jsonApi.js';
import { constantTimeEqual } from '../infra/tokens.js';

// The access check's routes, for the systems that enforce access (enforcer
// keys) and for partners asking about themselves. The composition root mounts
// them ahead of the rest of the app: the check is the most frequent request by
// far, so it skips what it has no use for (cookies, the partner request budget,
// the other routers) and costs one SQL statement and, most of the time, no
// Redis round trip (src/access/accessGrants.ts, src/http/leasedRateLimit.ts).

export interface AccessRoutesDeps {
  access: AccessCheck;
  authFailures: AuthFailures;
  operatorToken: string;
}

/** Relative to /api/v1. */
export const ACCESS_PATHS = { single: '/access', batch: '/access/batch' } as const;

export function accessRoutes({ access, authFailures, operatorToken }: AccessRoutesDeps): Router {
  const router = Router({ strict: false });

  /** The bearer key, checked before the question is even parsed: no key, no validation messages. */
  function keyOf(req: Request): string {
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
  async function answer(req: Request, res: Response, key: string, questions: AskedQuestion[], batch: boolean): Promise<Answer[]> {
    const result = await access.ask(key, questions, { batch });
    if (!result) {
      await authFailures.refuseIfBlocked(req);
      await authFailures.recordFailure(req);
      throw new AppError('unauthorized', 'The API key is not valid.');
    }
    // An answer is true only now: never stored by a cache on the way.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    return result.answers;
  }

  router.get(ACCESS_PATHS.single, async (req, res) => {
    const key = keyOf(req);
    const question = accessQuerySchema.parse(req.query);
    const [first] = await answer(req, res, key, [question], false);
    res.json(first);
  });

  // The key is looked at before the body is read: no key, no body parsing.
  const keyFirst = (req: Request, _res: Response, next: NextFunction) => {
    keyOf(req);
    next();
  };
  router.post(ACCESS_PATHS.batch, keyFirst, jsonBodies(), async (req, res) => {
    const key = keyOf(req);
    const { checks } = accessBatchSchema.parse(req.body ?? {});
    const answers = await answer(req, res, key, checks, true);
    res.json({ results: checks.map((check, n) => ({ ...check, ...answers[n] })) });
  });

  return router;
}
