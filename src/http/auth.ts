import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { constantTimeEqual } from '../infra/tokens.js';
import { AppError } from './errors.js';

/**
 * Who a request to the JSON API is from: a partner (its API key), an enforcer
 * (the system that executes admin actions in tenants, with its key; it may ask
 * the access question and nothing else), or the operator (the operator token).
 */
export type Principal =
  | {
      kind: 'partner';
      partnerId: string;
      partnerName: string;
      /** Read with its key, so an offer needs no second read: when the operator paused it (null: not paused). */
      pausedAt: Date | null;
      /** Who provisions its purchases and trials (`local` or `partner`). */
      provisioner: string;
    }
  | { kind: 'enforcer'; enforcerId: string; tenants: string[] | null }
  | { kind: 'operator' };

/** What an API key authenticates as. */
export type KeyHolder = Exclude<Principal, { kind: 'operator' }>;

/** A principal that may call routes other than the access check. */
export type PartnerOrOperator = Exclude<Principal, { kind: 'enforcer' }>;

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
  }
}

/** The credential of an `Authorization: Bearer <key>` header, if that is what the request sent. */
export function bearerTokenOf(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * The operator token as a page a browser opens takes it: the password of an `Authorization: Basic`
 * header (any user name; the browser's own prompt sends it), or else the Bearer token.
 */
export function basicPasswordOrBearerOf(req: IncomingMessage): string | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (basic === undefined) return bearerTokenOf(req);
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

/**
 * Finds who a live API key belongs to, or null. The composition root passes
 * one that looks in the partner keys (src/partners) and the enforcer keys
 * (src/enforcers); plumbing imports neither.
 */
export type AuthenticateKey = (key: string) => Promise<KeyHolder | null>;

const ENFORCER_ONLY_ASKS = 'An enforcer key may only ask the access question (GET /api/v1/access, POST /api/v1/access/batch).';

/**
 * Bearer auth for the JSON API: the operator token, or a live partner API key.
 * A live enforcer key is refused (403) here, before any route runs: it may
 * only ask the access question, which is served ahead of this (src/accessApi).
 */
export function bearerAuth(authenticateKey: AuthenticateKey, operatorToken: string) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = bearerTokenOf(req);
    if (!key) throw new AppError('unauthorized', 'Send an Authorization: Bearer <key> header.');
    if (constantTimeEqual(key, operatorToken)) {
      res.locals.principal = { kind: 'operator' };
      return next();
    }
    const holder = await authenticateKey(key);
    if (!holder) throw new AppError('unauthorized', 'The API key is not valid.');
    res.locals.principal = holder;
    if (holder.kind === 'enforcer') throw new AppError('forbidden', ENFORCER_ONLY_ASKS);
    next();
  };
}

/** Whoever authenticated, enforcers included: only the access check reads this. */
export function anyPrincipalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new AppError('unauthorized', 'Authentication required.');
  return principal;
}

/** The partner or the operator calling; an enforcer key is refused (403), so a route that forgets to check still never serves one. */
export function principalOf(res: Response): PartnerOrOperator {
  const principal = anyPrincipalOf(res);
  if (principal.kind === 'enforcer') throw new AppError('forbidden', ENFORCER_ONLY_ASKS);
  return principal;
}

export function requirePartner(res: Response): Extract<Principal, { kind: 'partner' }> {
  const principal = anyPrincipalOf(res);
  if (principal.kind !== 'partner') throw new AppError('forbidden', 'Only a partner API key may do this.');
  return principal;
}

export function requireOperator(res: Response): void {
  if (anyPrincipalOf(res).kind !== 'operator') throw new AppError('forbidden', 'Only the operator token may do this.');
}

/** Whose Idempotency-Key space a request uses: each partner its own, the operator one. */
export function callerScope(res: Response): string {
  const principal = principalOf(res);
  return principal.kind === 'partner' ? `partner-${principal.partnerId}` : 'operator';
}
