import type { Database } from '../infra/database.js';
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
    const invitation = await db.invitation.upsert({
      where: { idempotencyKey: key },
      create: { id: link.id, idempotencyKey: key, relationshipId: input.relationshipId, tokenHash: link.tokenHash, recipientEmail, expiresAt },
      // A row from before derived tokens holds a random token's hash that was never sent: replace it.
      update: { tokenHash: link.tokenHash, expiresAt },
    });
    if (input.revokePrevious) {
      await db.invitation.updateMany({
        where: { relationshipId: input.relationshipId, id: { not: invitation.id }, usedAt: null, revokedAt: null },
        data: { revokedAt: new Date() },
      });
    }
    // The first invitation's expiry is already in the read model: the `invited` transition wrote it from the same state.
    if (input.purpose !== 'invitation') await db.relationship.update({ where: { id: input.relationshipId }, data: { invitationExpiresAt: expiresAt } });

    const base = { to: recipientEmail, relationshipId: rel.id, workflowId: input.workflowId, sender: rel.partnerId, link: link.ref };
    if (input.purpose === 'reminder') {
      await mail.enqueue(key, { ...base, template: 'reminder', data: { ...parties, expiresAt: input.expiresAt } });
    } else {
      await mail.enqueue(key, { ...base, template: 'invitation', data: invitationEmailData(context, { expiresAt: input.expiresAt }) });
    }
    return { invitationId: invitation.id };
  }

  return { issueInvitation };
}
