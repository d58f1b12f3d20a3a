import { writeAuditEvent } from '../audit/auditLog.js';
import { invitationEmailData } from '../relationships/invitationEmail.js';
import { loadRelationshipContext, recipientKey } from '../relationships/relationshipContext.js';
import { withRedis } from '../http/redisAvailability.js';
import type { Database } from '../infra/database.js';
import { linkFor } from '../infra/linkTokens.js';
import type { Logger } from '../infra/logger.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import type { InvitationLinks } from './invitationLink.js';

// A registered tenant's non-admin hands the request to the tenant's admins.
// Each admin gets a link of its own, bound to its address (its answer counts
// because it is an admin), once per invitation however often this is asked.
// The page never says who the admins are; the audit log does, for operators.

export interface InvitationForwardingDeps {
  db: Database;
  links: InvitationLinks;
  tenants: Pick<TenantDirectory, 'adminsOf'>;
  mail: MailOutbox;
  /** Link tokens are derived from it (see linkTokens.ts); mail jobs carry only a reference. */
  linkSecret: string;
  log: Logger;
}

export function createInvitationForwarding(deps: InvitationForwardingDeps) {
  const { db, links, tenants, log } = deps;

  /** `notForwardable`: the holder is an admin, or the domain is unregistered; the invitation page says what they can do. */
  async function forward(token: string) {
    const found = await links.open(token);
    if (found.problem) return { outcome: 'linkProblem', problem: found.problem } as const;
    if (found.authority !== 'notAdmin' || !found.tenant) return { outcome: 'notForwardable' } as const;
    const { rel, tenant, invitation } = found;
    const context = await loadRelationshipContext(db, rel.id);
    const admins = await tenants.adminsOf(tenant.domain);
    let sent = 0;
    for (const admin of admins) {
      const key = `forward-${found.answeredId}-${recipientKey(admin)}`;
      // As the workflow's own invitations do: a link whose email never reached the queue is sent again, with the
      // same derived token (the row's id is the derivation input).
      const existing = await db.invitation.findUnique({ where: { idempotencyKey: key } });
      if (existing && (await withRedis('forward the request', () => deps.mail.isEnqueued(key), 3_000))) continue;
      const link = linkFor(deps.linkSecret, 'invitation', existing?.id);
      await db.invitation.upsert({
        where: { idempotencyKey: key },
        create: { id: link.id, relationshipId: rel.id, idempotencyKey: key, tokenHash: link.tokenHash, recipientEmail: admin, forwardedFromId: found.answeredId, expiresAt: invitation.expiresAt },
        update: { tokenHash: link.tokenHash },
      });
      const data = invitationEmailData(context, { expiresAt: invitation.expiresAt.toISOString(), forwardedBy: invitation.recipientEmail });
      const job = { template: 'invitation' as const, to: admin, relationshipId: rel.id, sender: rel.partnerId, link: link.ref, data };
      await withRedis('forward the request', () => deps.mail.enqueue(key, job), 3_000);
      sent++;
    }
    if (sent > 0) {
      await writeAuditEvent(db, {
        idempotencyKey: `forward-${found.answeredId}-${Date.now()}`,
        relationshipId: rel.id,
        tenantDomain: tenant.domain,
        actorType: 'customer',
        actorId: invitation.recipientEmail,
        action: 'invitation.forwarded',
        data: { admins: sent },
      });
    }
    log.info({ event: 'invitation.forwarded', relationshipId: rel.id, workflowId: rel.workflowId, sent }, 'invitation forwarded to admins');
    return { outcome: 'forwarded', partnerName: rel.partner.name, customerName: tenant.name } as const;
  }

  return { forward };
}

export type InvitationForwarding = ReturnType<typeof createInvitationForwarding>;
