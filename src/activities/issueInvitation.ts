import type { Database } from '../infra/database.js';
import { hashToken, newToken } from '../infra/tokens.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import { loadRelationshipContext } from './relationshipContext.js';
import { invitationEmailData } from './invitationEmail.js';

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
 * Creates a link token, stores only its hash, and enqueues the email carrying
 * it. The raw token never enters workflow history. A retry after the email was
 * enqueued changes nothing; a retry before it rotates the (never sent) token.
 */
export function createInvitationActivities(db: Database, mail: MailOutbox, publicBaseUrl: string) {
  async function issueInvitation(input: IssueInvitationInput): Promise<{ invitationId: string }> {
    const key = `${input.workflowId}-invitation-${input.step}`;
    const existing = await db.invitation.findUnique({ where: { idempotencyKey: key } });
    if (existing && (await mail.isEnqueued(key))) return { invitationId: existing.id };

    const context = await loadRelationshipContext(db, input.relationshipId);
    const { rel, parties } = context;
    const token = newToken();
    const expiresAt = new Date(input.expiresAt);
    // The link goes to the contact the partner named; whether it authorizes is decided when it is used.
    const recipientEmail = rel.contactEmail;
    const invitation = await db.invitation.upsert({
      where: { idempotencyKey: key },
      create: { id: input.invitationId, idempotencyKey: key, relationshipId: input.relationshipId, tokenHash: hashToken(token), recipientEmail, expiresAt },
      update: { tokenHash: hashToken(token), expiresAt },
    });
    if (input.revokePrevious) {
      await db.invitation.updateMany({
        where: { relationshipId: input.relationshipId, id: { not: invitation.id }, usedAt: null, revokedAt: null },
        data: { revokedAt: new Date() },
      });
    }
    await db.relationship.update({ where: { id: input.relationshipId }, data: { invitationExpiresAt: expiresAt } });

    const invitationUrl = new URL(`/invitations/${token}`, publicBaseUrl).toString();
    const base = { to: recipientEmail, relationshipId: rel.id, workflowId: input.workflowId };
    if (input.purpose === 'reminder') {
      await mail.enqueue(key, { ...base, template: 'reminder', data: { ...parties, expiresAt: input.expiresAt, invitationUrl } });
    } else {
      await mail.enqueue(key, { ...base, template: 'invitation', data: invitationEmailData(context, { invitationUrl, expiresAt: input.expiresAt }) });
    }
    return { invitationId: invitation.id };
  }

  return { issueInvitation };
}
