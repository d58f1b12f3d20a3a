import { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { linkFor } from '../infra/linkTokens.js';
import { hashToken, newToken } from '../infra/tokens.js';
import type { TxtLookup } from './dnsTxtLookup.js';
import { auditTenantChange, lockTenant } from './tenantDirectory.js';
import { challengeRecordName } from './tenantIdentifiers.js';

// Self-service registration, as Entra ID and Google Workspace do it: the
// emailed link (or the invitation link the person came from) proves the
// address; a TXT record holding a random per-challenge value proves control of
// the domain. Only both together create a tenant, with that person as its first admin.

const CHALLENGE_TTL_MS = 7 * 24 * 3_600_000;
const TXT_PREFIX = 'partnerflow-verification=';

export type ChallengeProblem = 'unknown' | 'expired' | 'verified' | 'registered';

export type VerifyOutcome =
  | { outcome: 'verified'; domain: string; email: string }
  | { outcome: 'missing'; recordName: string; expected: string }
  | { outcome: 'mismatch'; recordName: string; expected: string; found: string[]; stale: boolean }
  | { outcome: 'unavailable'; recordName: string; expected: string }
  | { outcome: 'refused'; problem: ChallengeProblem };

/** `linkSecret` derives the emailed link's token (see linkTokens.ts); only its hash is stored. */
export function createDomainChallenges(db: Database, lookupTxt: TxtLookup, linkSecret: string) {
  /** `token` is for a redirect in the same response only; an email's job gets `link`. */
  async function start(input: { domain: string; email: string; name: string }) {
    const link = linkFor(linkSecret, 'domainChallenge');
    const challenge = await db.domainChallenge.create({
      data: {
        id: link.id,
        domain: input.domain,
        email: input.email,
        name: input.name,
        tokenHash: link.tokenHash,
        txtValue: `${TXT_PREFIX}${newToken(24)}`,
        expiresAt: new Date(Date.now() + CHALLENGE_TTL_MS),
      },
    });
    return { token: link.token, link: link.ref, challenge };
  }

  async function open(token: string) {
    const challenge = await db.domainChallenge.findUnique({ where: { tokenHash: hashToken(token) } });
    if (!challenge) return { problem: 'unknown' as ChallengeProblem };
    const view = { ...challenge, recordName: challengeRecordName(challenge.domain) };
    if (challenge.verifiedAt) return { problem: 'verified' as ChallengeProblem, challenge: view };
    if (challenge.expiresAt.getTime() <= Date.now()) return { problem: 'expired' as ChallengeProblem, challenge: view };
    const registered = await db.tenant.findUnique({ where: { domain: challenge.domain } });
    if (registered) return { problem: 'registered' as ChallengeProblem, challenge: view };
    return { problem: null, challenge: view };
  }

  /** Looks the record up now and, when it holds this challenge's value, registers the tenant. */
  async function verify(token: string): Promise<VerifyOutcome> {
    const opened = await open(token);
    if (opened.problem) return { outcome: 'refused', problem: opened.problem };
    const { challenge } = opened;
    const expected = challenge.txtValue;
    const recordName = challenge.recordName;
    const answer = await lookupTxt(recordName);
    if (answer.kind === 'unavailable') return { outcome: 'unavailable', recordName, expected };
    if (answer.kind === 'none') return { outcome: 'missing', recordName, expected };
    if (!answer.values.includes(expected)) {
      // A value from an earlier challenge of this domain: the person published an old one.
      const older = await db.domainChallenge.count({ where: { domain: challenge.domain, txtValue: { in: answer.values }, id: { not: challenge.id } } });
      return { outcome: 'mismatch', recordName, expected, found: answer.values, stale: older > 0 };
    }
    try {
      return await db.$transaction(async (tx) => {
        if (await lockTenant(tx, challenge.domain)) return { outcome: 'refused' as const, problem: 'registered' as const };
        const claimed = await tx.domainChallenge.updateMany({
          where: { id: challenge.id, verifiedAt: null, expiresAt: { gt: new Date() } },
          data: { verifiedAt: new Date() },
        });
        if (claimed.count !== 1) return { outcome: 'refused' as const, problem: 'verified' as const };
        const actor = { type: 'customer' as const, id: challenge.email };
        await tx.tenant.create({ data: { domain: challenge.domain, name: challenge.name, registeredVia: 'dns' } });
        await tx.tenantAdmin.create({ data: { tenantDomain: challenge.domain, email: challenge.email, addedVia: 'dns' } });
        await auditTenantChange(tx, challenge.domain, actor, 'tenant.registered', { name: challenge.name, via: 'dns', recordName, txtValue: expected });
        await auditTenantChange(tx, challenge.domain, actor, 'tenant.adminAdded', { email: challenge.email, via: 'dns' });
        return { outcome: 'verified' as const, domain: challenge.domain, email: challenge.email };
      });
    } catch (err) {
      // Two challenges of one domain verified at the same instant: the other one won.
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return { outcome: 'refused', problem: 'registered' };
      throw err;
    }
  }

  return { start, open, verify };
}

export type DomainChallenges = ReturnType<typeof createDomainChallenges>;
