import type { Request, Response } from 'express';
import { AppError } from '../http/errors.js';
import { basicPasswordOrBearerOf, bearerTokenOf } from '../http/auth.js';
import { constantTimeEqual, hashToken } from '../infra/tokens.js';

// Who may use the codec endpoint: the operator. Scripts and the Temporal CLI send
// the operator token as a Bearer header (`--codec-auth "Bearer …"`). The Web UI
// cannot: it sends either its own OIDC access token ("Pass the user access
// token") or, with "Include cross-origin credentials", the browser's cookies for
// the API. So an operator signs the browser in once, at GET /codec/session with
// the operator token as the HTTP Basic password, and gets a signed, httpOnly
// cookie scoped to /codec that the Web UI's codec requests then carry.

/** How long a browser stays signed in to the codec. */
export const CODEC_SESSION_MS = 8 * 60 * 60 * 1000;

export interface CodecSessionOptions {
  operatorToken: string;
  /** Over https: Secure and SameSite=None, so a Web UI on another site (Temporal Cloud) may send it; otherwise SameSite=Lax. */
  secure: boolean;
}

export function createCodecSession({ operatorToken, secure }: CodecSessionOptions) {
  const name = secure ? '__Secure-pf_codec' : 'pf_codec';
  const cookieOptions = { path: '/codec', httpOnly: true, secure, sameSite: secure ? ('none' as const) : ('lax' as const) };
  // A session names the operator token it was opened with, so replacing the token ends every session.
  const tokenFingerprint = hashToken(`codec-session:${operatorToken}`).slice(0, 32);

  const isOperatorToken = (presented: string | undefined) => presented !== undefined && constantTimeEqual(presented, operatorToken);

  function hasLiveSession(req: Request): boolean {
    const raw: unknown = (req.signedCookies as Record<string, unknown> | undefined)?.[name];
    if (typeof raw !== 'string') return false;
    const [expires = '', fingerprint = ''] = raw.split('.');
    return Number(expires) > Date.now() && constantTimeEqual(fingerprint, tokenFingerprint);
  }

  return {
    /** Lets the operator through (a Bearer operator token, or a signed-in browser); throws `unauthorized` otherwise. */
    requireOperator(req: Request): void {
      if (isOperatorToken(bearerTokenOf(req)) || hasLiveSession(req)) return;
      throw new AppError('unauthorized', 'The codec is for operators: send Authorization: Bearer <operator token>, or sign this browser in at /codec/session.');
    },
    /** Signs a browser in when it presents the operator token (the browser asks for it: HTTP Basic, any user name). */
    signIn(req: Request, res: Response): Date {
      if (!isOperatorToken(basicPasswordOrBearerOf(req))) {
        res.set('www-authenticate', 'Basic realm="partnerflow payload codec", charset="UTF-8"');
        throw new AppError('unauthorized', 'Sign in with the operator token as the password (any user name).');
      }
      const expires = new Date(Date.now() + CODEC_SESSION_MS);
      res.cookie(name, `${expires.getTime()}.${tokenFingerprint}`, { ...cookieOptions, signed: true, expires });
      return expires;
    },
  };
}

export type CodecSession = ReturnType<typeof createCodecSession>;
