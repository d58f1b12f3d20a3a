import { ENFORCER_KEYS } from '../enforcers/enforcers.js';
import { AppError } from '../http/errors.js';
import type { LeasedRateLimit } from '../http/leasedRateLimit.js';
import { hashToken } from '../infra/tokens.js';
import type { AccessGrants, Answers } from './accessGrants.js';

// Who may ask what, and the answers. A partner key asks about its own partner
// (naming another is 403); an enforcer key names the partner of each question
// and asks only in the tenants it is scoped to (403 outside them). Checks have
// budgets of their own, apart from the partner's request budget: one per
// enforcer, one per partner key holder; a batch spends one point per question.
// A spent budget is a 429 with Retry-After, never an answer of "no".

/** One question as asked: `partner` is the caller's own when a partner key leaves it out. */
export interface AskedQuestion {
  partner?: string | undefined;
  tenant: string;
  role: string;
}

export interface Answer {
  allowed: boolean;
  relationshipId?: string;
}

export interface AccessCheckDeps {
  grants: AccessGrants;
  partnerChecks: LeasedRateLimit;
  enforcerChecks: LeasedRateLimit;
}

const answerOf = (relationshipId: string | null): Answer => (relationshipId ? { allowed: true, relationshipId } : { allowed: false });

/** A partner id no partner has. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

const FOREIGN_PARTNER = 'A partner API key may ask only about its own access; leave out partner, or name your own partner id.';

export function createAccessCheck({ grants, partnerChecks, enforcerChecks }: AccessCheckDeps) {
  /**
   * The answers to `questions`, in order, for the holder of `apiKey`; null when
   * the key is not a live partner or enforcer key (the caller answers 401).
   */
  async function ask(apiKey: string, questions: AskedQuestion[], { batch }: { batch: boolean }): Promise<Answer[] | null> {
    const keyHash = hashToken(apiKey);
    if (apiKey.startsWith(ENFORCER_KEYS.tag)) {
      // A question without its partner is asked about nobody, so a dead key is still a 401 first.
      const found = await grants.askWithEnforcerKey(
        keyHash,
        questions.map((q) => ({ partner: q.partner ?? NOBODY, tenant: q.tenant, role: q.role })),
      );
      if (!found) return null;
      const missing = questions.findIndex((q) => q.partner === undefined);
      if (missing >= 0) {
        const path = batch ? `checks.${missing}.partner` : 'partner';
        throw new AppError('validation', 'An enforcer key must name the partner it asks about.', { errors: [{ path, message: 'required with an enforcer key' }] });
      }
      const outside = found.tenants && questions.find((q) => !found.tenants?.includes(q.tenant));
      if (outside) throw new AppError('forbidden', `This enforcer may not ask about tenant ${outside.tenant}.`);
      await enforcerChecks.take(found.enforcerId, questions.length);
      return answersOf(found.answers);
    }
    const found = await grants.askWithPartnerKey(keyHash, questions);
    if (!found) return null;
    if (questions.some((q) => q.partner !== undefined && q.partner !== found.partnerId)) throw new AppError('forbidden', FOREIGN_PARTNER);
    await partnerChecks.take(found.partnerId, questions.length);
    return answersOf(found.answers);
  }

  return { ask };
}

const answersOf = (answers: Answers): Answer[] => answers.map(answerOf);

export type AccessCheck = ReturnType<typeof createAccessCheck>;
