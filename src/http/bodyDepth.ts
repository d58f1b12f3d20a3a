import type { NextFunction, Request, Response } from 'express';
import { AppError } from './errors.js';

// No request of this API nests deeper than a few levels, but 32 KiB of "[" is
// 16,000 levels: enough to overflow the stack of any recursive walk over the body
// (the idempotency hash, schema validation). Such a body is refused at the edge,
// with a walk that is itself iterative.

export const MAX_BODY_DEPTH = 32;

/** Whether a parsed body nests deeper than `max` levels (an iterative walk: a deep body cannot overflow it). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() ?? [null, 0];
    if (node === null || typeof node !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Refuses a parsed JSON body nested deeper than MAX_BODY_DEPTH (400, nothing changed). */
export function boundedBodyDepth(req: Request, _res: Response, next: NextFunction): void {
  if (nestedDeeperThan(req.body, MAX_BODY_DEPTH)) {
    return next(new AppError('validation', `The body is nested more than ${MAX_BODY_DEPTH} levels deep.`));
  }
  next();
}
