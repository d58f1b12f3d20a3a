import { toAppError } from '../http/errors.js';
import type { RateLimit } from '../http/rateLimits.js';
import { withRedis } from '../http/redisAvailability.js';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import { hashToken } from '../infra/tokens.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import type { DomainChallenges } from '../tenants/domainChallenge.js';
import type { ChallengeView } from './pages/tenantPages.js';

// Self-service registration: /tenants/new → emailed link → TXT record → Verify.
// The emailed link proves the address, the record proves the domain; only both
// register a tenant (domainChallenge.ts). The form gives the same answer for
// every domain, registered or not, so it reveals nothing about the directory.

export interface TenantSelfServiceDeps {
  db: Database;
  challenges: DomainChallenges;
  mail: MailOutbox;
  log: Logger;
  /** Verification emails per domain, so the form cannot flood an inbox. */
  verificationLimit: RateLimit;
}

export function createTenantSelfService(deps: TenantSelfServiceDeps) {
  const { db, challenges, log } = deps;

  /** Emails a verification link, unless this domain has had its share of them this hour (`limited`). */
  async function askVerification(form: { tenantDomain: string; name: string; email: string }): Promise<'limited' | 'sent'> {
    const { tenantDomain, name, email } = form;
    try {
      await deps.verificationLimit.consume(tenantDomain);
    } catch (err) {
      if (toAppError(err).code !== 'rateLimited') throw err;
      return 'limited';
    }
    const { link, challenge } = await challenges.start({ domain: tenantDomain, email, name });
    const job = {
      template: 'domainVerification' as const,
      to: email,
      link,
      data: { customerName: name, tenantDomain, expiresAt: challenge.expiresAt.toISOString() },
    };
    await withRedis('send the verification email', () => deps.mail.enqueue(`domain-challenge-${challenge.id}`, job), 3_000);
    log.info({ event: 'tenant.challenge_started', tenant: tenantDomain, from: 'form' }, 'domain challenge started');
    return 'sent';
  }

  /** The invitation a verification came from, when the token really is one for this domain. */
  async function invitationPathFor(invitationToken: string | undefined, domain: string): Promise<string | undefined> {
    if (!invitationToken) return undefined;
    const invitation = await db.invitation.findUnique({ where: { tokenHash: hashToken(invitationToken) }, include: { relationship: true } });
    return invitation?.relationship.tenantDomain === domain ? `/invitations/${invitationToken}` : undefined;
  }

  type OpenChallenge = Extract<Awaited<ReturnType<DomainChallenges['open']>>, { problem: null }>['challenge'];

  /** What the verify page shows; it links back to the invitation only when the token is one for this domain. */
  async function challengeView(token: string, challenge: OpenChallenge, invitationToken: string | undefined) {
    const invitationPath = await invitationPathFor(invitationToken, challenge.domain);
    const view: ChallengeView = {
      token,
      domain: challenge.domain,
      email: challenge.email,
      recordName: challenge.recordName,
      expected: challenge.txtValue,
      expiresAt: challenge.expiresAt,
      ...(invitationPath && invitationToken ? { invitationToken } : {}),
    };
    return { view, invitationPath };
  }

  /**
   * The verify page: why the link no longer works, or the challenge. Its view
   * is a second step (`viewOf`), so the page can be marked no-store before the
   * view is read, as it always was.
   */
  async function openChallenge(token: string) {
    const opened = await challenges.open(token);
    if (opened.problem) return { problem: opened.problem } as const;
    return { problem: null, challenge: opened.challenge } as const;
  }

  /** The record to publish for an open challenge (see openChallenge). */
  async function viewOf(token: string, challenge: OpenChallenge, invitationToken: string | undefined): Promise<ChallengeView> {
    return (await challengeView(token, challenge, invitationToken)).view;
  }

  /** Verify: looks the record up now; `result` says what was found (domainChallenge.ts). */
  async function verifyChallenge(token: string, invitationToken: string | undefined) {
    const opened = await challenges.open(token);
    if (opened.problem) return { problem: opened.problem } as const;
    const { view, invitationPath } = await challengeView(token, opened.challenge, invitationToken);
    const result = await challenges.verify(token);
    if (result.outcome === 'verified') log.info({ event: 'tenant.registered', tenant: result.domain, via: 'dns' }, 'tenant registered by DNS proof');
    return { problem: null, view, invitationPath, result } as const;
  }

  return { askVerification, openChallenge, viewOf, verifyChallenge };
}

export type TenantSelfService = ReturnType<typeof createTenantSelfService>;
