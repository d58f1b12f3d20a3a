import type { Request, Response } from 'express';
import { z } from 'zod';
import { newToken } from '../infra/tokens.js';

// The customer's session lives in a signed, httpOnly cookie (cookie-parser
// signs it with SESSION_SECRET). It carries a CSRF token that every form
// echoes back, so another site cannot post on the customer's behalf.

const COOKIE = 'pf_session';
const SESSION_HOURS = 8;

const sessionSchema = z.object({ tenant: z.string(), email: z.string(), csrf: z.string(), exp: z.number() });
export type CustomerSession = z.infer<typeof sessionSchema>;

export function startSession(res: Response, tenant: string, email: string, secure: boolean): void {
  const session: CustomerSession = { tenant, email, csrf: newToken(16), exp: Date.now() + SESSION_HOURS * 3_600_000 };
  res.cookie(COOKIE, JSON.stringify(session), {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: SESSION_HOURS * 3_600_000,
    path: '/',
  });
}

export function readSession(req: Request): CustomerSession | undefined {
  const raw: unknown = (req.signedCookies as Record<string, unknown> | undefined)?.[COOKIE];
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed = sessionSchema.safeParse(JSON.parse(raw));
    return parsed.success && parsed.data.exp > Date.now() ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function endSession(res: Response): void {
  res.clearCookie(COOKIE, { path: '/' });
}
