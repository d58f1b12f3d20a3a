import type { NextFunction, Request, Response } from 'express';
import { constantTimeEqual } from '../infra/tokens.js';
import { AppError } from './errors.js';

export type Principal = { kind: 'partner'; partnerId: string; partnerName: string } | { kind: 'operator' };

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
  }
}

/** The credential of an `Authorization: Bearer <key>` header, if that is what the request sent. */
export function bearerTokenOf(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
}

/** Finds the partner a live API key belongs to (src/partners/partnerKeys.ts), or null. */
export type AuthenticateKey = (key: string) => Promise<{ partnerId: string; partnerName: string } | null>;

/** Bearer auth for the JSON API: the operator token, or a live partner API key. */
export function bearerAuth(authenticateKey: AuthenticateKey, operatorToken: string) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = bearerTokenOf(req);
    if (!key) throw new AppError('unauthorized', 'Send an Authorization: Bearer <key> header.');
    if (constantTimeEqual(key, operatorToken)) {
      res.locals.principal = { kind: 'operator' };
      return next();
    }
    const partner = await authenticateKey(key);
    if (!partner) throw new AppError('unauthorized', 'The API key is not valid.');
    res.locals.principal = { kind: 'partner', partnerId: partner.partnerId, partnerName: partner.partnerName };
    next();
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new AppError('unauthorized', 'Authentication required.');
  return principal;
}

export function requirePartner(res: Response): Extract<Principal, { kind: 'partner' }> {
  const principal = principalOf(res);
  if (principal.kind !== 'partner') throw new AppError('forbidden', 'Only a partner API key may do this.');
  return principal;
}

export function requireOperator(res: Response): void {
  if (principalOf(res).kind !== 'operator') throw new AppError('forbidden', 'Only the operator token may do this.');
}

/** Whose Idempotency-Key space a request uses: each partner its own, the operator one. */
export function callerScope(res: Response): string {
  const principal = principalOf(res);
  return principal.kind === 'partner' ? `partner-${principal.partnerId}` : 'operator';
}
