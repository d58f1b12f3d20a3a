import type { Database } from '../infra/database.js';
import { utcTimestamp as utc } from '../infra/sqlTimestamp.js';
import { linkFor } from '../infra/linkTokens.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import { loadInvitationStepContext } from '../relationships/relationshipContext.js';
import { invitationEmailData } from '../relationships/invitationEmail.js';

export interface IssueInvitationInput {
  workflowId: string;
  relationshipId: string;
  /** Chosen by the workflow (deterministically), so it is valid before the email goes out. */
  invitationId: string;
  /** Counts every link issued by this workflow; with the workflow ID it is the idempotency key. */
  step: number;
  purpose: 'invitation' | 'reminder' | 'resend';
  expiresAt: string;
  /** A resend replaces every earlier link; a reminder adds one beside it. */
  revokePrevious: boolean;
}

/**
 * Stores the hash of the invitation's link token and enqueues the email with a
 * reference to the link. The token is derived from LINK_SECRET and the
 * invitation id (see linkTokens.ts), so it is in neither workflow history nor
 * Redis, and a retry at any point derives the same token for the same row.
 */
export function createInvitationActivities(db: Database, mail: MailOutbox, linkSecret: string) {
  async function issueInvitation(input: IssueInvitationInput): Promise<{ invitationId: string }> {
    const key = `${input.workflowId}-invitation-${input.step}`;
    // The relationship and this step's invitation (if a retry wrote it) in one read.
    const { context, existing } = await loadInvitationStepContext(db, input.relationshipId, key);
    if (existing && (await mail.isEnqueued(key))) return { invitationId: existing.id };

    const { rel, parties } = context;
    // A row written by a retry of this step keeps its id; the id is the derivation input.
    const link = linkFor(linkSecret, 'invitation', existing?.id ?? input.invitationId);
    const expiresAt = new Date(input.expiresAt);
    // The link goes to the contact the partner named; whether it authorizes is decided when it is used.
    const recipientEmail = rel.contactEmail;
    // Earlier links die first (the new one's id is known, so a retry's row is spared), then the new
    // link and its email's row are written in one statement; the email goes to the queue after it.
    if (input.revokePrevious) {
      await db.invitation.updateMany({
        where: { relationshipId: input.relationshipId, id: { not: link.id }, usedAt: null, revokedAt: null },
        data: { revokedAt: new Date() },
      });
    }
    // The first invitation's expiry is already in the read model: the `invited` transition wrote it from the same state.
    if (input.purpose !== 'invitation') await db.relationship.update({ where: { id: input.relationshipId }, data: { invitationExpiresAt: expiresAt } });

    const base = { to: recipientEmail, relationshipId: rel.id, workflowId: input.workflowId, sender: rel.partnerId, link: link.ref };
    const job =
      input.purpose === 'reminder'
        ? { ...base, template: 'reminder' as const, data: { ...parties, expiresAt: input.expiresAt } }
        : { ...base, template: 'invitation' as const, data: invitationEmailData(context, { expiresAt: input.expiresAt }) };
    await mail.enqueueAlongside(key, job, async (emailRow) => {
      // A row from before derived tokens holds a random token's hash that was never sent: the update replaces it.
      const [written] = await db.$queryRaw<{ staged: boolean }[]>`
        WITH invitation AS (
          INSERT INTO invitations (id, idempotency_key, relationship_id, token_hash, recipient_email, expires_at, created_at)
          VALUES (${link.id}::uuid, ${key}, ${input.relationshipId}::uuid, ${link.tokenHash}, ${recipientEmail}, ${utc(input.expiresAt)},
                  (now() AT TIME ZONE 'UTC'))
          ON CONFLICT (idempotency_key) DO UPDATE SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at
          RETURNING id
        ),
        email AS (${emailRow})
        SELECT EXISTS (SELECT 1 FROM email) AS staged FROM invitation`;
      if (!written) throw new Error(`invitation ${key} not written`);
      return written.staged;
    });
    return { invitationId: link.id };
  }

  return { issueInvitation };
}
