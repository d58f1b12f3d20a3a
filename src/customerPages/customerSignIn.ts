import type { Request } from 'express';
import type { Redis } from 'ioredis';
import { AppError, toAppError } from '../http/errors.js';
import { withRedis } from '../http/redisAvailability.js';
import type { Logger } from '../infra/logger.js';
import type { CustomerSessions } from './customerSession.js';
import type { SignInAttempts } from './signInAttempts.js';
import type { SignInLinks } from './signInLinks.js';

// Signing in to Partner relationships: asking for a link, opening it, using it.
// Only a verified admin gets a link (signInLinks.ts); attempts count per client
// (signInAttempts.ts), never per organisation, so nobody else's attempts can
// lock an admin out. A client over its budget gets `limited`, with the refusal
// (its message and Retry-After) for the page.

export interface CustomerSignInDeps {
  attempts: SignInAttempts;
  links: SignInLinks;
  sessions: Pick<CustomerSessions, 'start'>;
  /** Pinged on every ask, whoever the address is. */
  redis: Redis;
  log: Logger;
}

/** The request, only as the key of the client's budget (signInAttempts.ts keys on its address). */
export type SignInClient = Request;

type Limited = { outcome: 'limited'; refusal: AppError };

export function createCustomerSignIn(deps: CustomerSignInDeps) {
  const { attempts, links, sessions, log } = deps;

  /** The client's `rateLimited` refusal, or undefined when the step passed; any other failure is thrown. */
  async function refusalOf(step: () => Promise<void>): Promise<AppError | undefined> {
    try {
      await step();
      return undefined;
    } catch (err) {
      const refusal = toAppError(err);
      if (refusal.code !== 'rateLimited') throw err;
      return refusal;
    }
  }

  /**
   * An ask for a link. Everything before the answer is the same for every
   * address: one attempt counted for this client, one Redis check. The caller
   * sends the one answer every address gets, then calls `sendLinkIfAdmin`: the
   * directory is read and the link made only after the answer is on its way,
   * so neither the response nor its timing depends on whether the address is an admin.
   */
  async function ask(client: SignInClient, tenantDomain: string, email: string): Promise<Limited | { outcome: 'asked'; sendLinkIfAdmin: () => void }> {
    const refusal = await refusalOf(() => attempts.count(client));
    if (refusal) return { outcome: 'limited', refusal };
    await withRedis('send the sign-in email', () => deps.redis.ping());
    return { outcome: 'asked', sendLinkIfAdmin: () => links.askInBackground(tenantDomain, email) };
  }

  /** What the emailed link would do (its GET, which a mail scanner may prefetch): uses nothing; a dead link counts as a failed attempt. */
  async function openLink(client: SignInClient, token: string) {
    const refusal = await refusalOf(() => attempts.check(client));
    if (refusal) return { outcome: 'limited', refusal } as const;
    const link = await links.peek(token);
    if (link) return { outcome: 'valid', link } as const;
    const counted = await refusalOf(() => attempts.count(client));
    if (counted) return { outcome: 'limited', refusal: counted } as const;
    return { outcome: 'dead' } as const;
  }

  /**
   * Uses the link (the button's POST) and starts a session for its admin; the
   * browser's previous session (`previousSessionId`) ends. A dead link counts
   * as a failed attempt; a good one costs nothing.
   */
  async function redeemLink(client: SignInClient, token: string, previousSessionId: string | undefined) {
    const refusal = await refusalOf(() => attempts.check(client));
    if (refusal) return { outcome: 'limited', refusal } as const;
    const used = await links.use(token);
    if (!used) {
      const counted = await refusalOf(() => attempts.count(client));
      if (counted) return { outcome: 'limited', refusal: counted } as const;
      return { outcome: 'dead' } as const;
    }
    const sessionId = await sessions.start(previousSessionId, used.tenantDomain, used.email);
    log.info({ event: 'customer.signed_in', tenant: used.tenantDomain }, 'customer signed in');
    return { outcome: 'signedIn', sessionId } as const;
  }

  return { ask, openLink, redeemLink };
}

export type CustomerSignIn = ReturnType<typeof createCustomerSignIn>;
