import { describe, expect, it } from 'vitest';
import { relationshipSchema } from '../src/apiDocs/responseSchemas.js';
import { getStateQuery } from '../src/contract/messages.js';
import { linkFor } from '../src/infra/linkTokens.js';
import type { MailJob } from '../src/mail/mailJob.js';
import { createMailWorker } from '../src/mail/mailWorker.js';
import { createProcessLogger, openWorkerParts } from '../src/system/system.js';
import { recordHistory } from './support/historyRecorder.js';
import { customer, invitationLink, mailsTo, newPartner, offer, readModel, subjects, unique } from './support/relationshipDriver.js';
import { useTestSystem } from './support/useTestSystem.js';
import { waitFor } from './support/waitFor.js';

// Delivery through the real mail queue, worker and an SMTP server this file
// starts: idempotent enqueue, an SMTP outage, and an address refused for good.

const REFUSED = /^nobody@/;

describe('mail delivery', () => {
  const system = useTestSystem('mail', { rejectRecipient: (address) => REFUSED.test(address) });

  const emailRow = (jobId: string) => system.db.emailMessage.findUnique({ where: { jobId } });
  const jobState = async (jobId: string) => (await system.mailQueue.getJob(jobId))?.getState();

  /** A sign-in email to `to`: the smallest job a worker sends. */
  const signInJob = (to: string): MailJob => ({
    template: 'signIn',
    to,
    link: linkFor(system.config.LINK_SECRET, 'signIn').ref,
    data: { customerName: 'Contoso', tenantDomain: 'contoso.example', expiresAt: new Date(Date.now() + 600_000) },
  });

  /** A mail worker of its own (own queue prefix), on this system's database, SMTP server and templates. */
  async function ownMailWorker(name: string, overrides: Partial<Parameters<typeof createMailWorker>[0]>) {
    const prefix = `${system.config.QUEUE_PREFIX}-${name}`;
    const config = { ...system.config, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent' as const };
    const log = createProcessLogger(config, `mail-${name}-test`);
    const parts = await openWorkerParts(config, log);
    const worker = createMailWorker({
      connection: parts.redis,
      prefix,
      db: system.db,
      templates: parts.templates,
      transport: parts.transport,
      from: system.config.MAIL_FROM,
      ratePerSecond: 10,
      log,
      linkSecret: system.config.LINK_SECRET,
      publicBaseUrl: system.baseUrl,
      redis: parts.redis,
      recipientPerHour: 100,
      ...overrides,
    });
    return {
      queue: parts.mailQueue,
      mail: parts.mail,
      async close() {
        await worker.close();
        await parts.mailQueue.obliterate({ force: true });
        await parts.close();
      },
    };
  }

  it('sends one email for a step enqueued twice, at once and again later', async () => {
    const outbox = system.mail;
    const to = `${unique('twice')}@contoso.example`;
    const jobId = `relationship-${unique('wf')}-sign-in-1`;
    const job: MailJob = {
      template: 'signIn',
      to,
      link: linkFor(system.config.LINK_SECRET, 'signIn').ref,
      data: { customerName: 'Contoso', tenantDomain: 'contoso.example', expiresAt: new Date(Date.now() + 600_000) },
    };

    // A retried activity racing its first run, then retrying once more.
    await Promise.all([outbox.enqueue(jobId, job), outbox.enqueue(jobId, job)]);
    await outbox.enqueue(jobId, job);

    await system.smtp.waitForMail((m) => m.to.includes(to), 'the sign-in email');
    await waitFor(async () => (await jobState(jobId)) === 'completed', { what: 'the mail job to complete' });
    expect(await emailRow(jobId)).toMatchObject({ status: 'sent', attempts: 1, smtpMessageId: `<${jobId}@partnerflow>` });

    // Redis forgets finished jobs in the end; the Postgres row still refuses a second send.
    await (await system.mailQueue.getJob(jobId))?.remove();
    await outbox.enqueue(jobId, job);
    expect(await system.mailQueue.getJob(jobId)).toBeUndefined();
    expect(await outbox.isEnqueued(jobId)).toBe(true);
    expect(system.smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(1);
  });

  // Before: the render error escaped the retry path; after the last attempt the row stayed `queued`
  // behind a failed job, seen by no operator and swept by nobody.
  it('an email whose data cannot be rendered fails at once as a dead letter with the reason, never retried', async () => {
    const to = `${unique('unrenderable')}@contoso.example`;
    const jobId = `relationship-${unique('wf')}-unrenderable`;
    // A job from an older or broken producer: the template's data misses its required fields.
    const job = { template: 'partnerResumed', to, data: { partnerName: 'Broken' } } as unknown as MailJob;
    await system.mail.enqueue(jobId, job);
    const row = await waitFor(async () => {
      const found = await emailRow(jobId);
      return found?.status === 'failed' ? found : undefined;
    }, { what: 'the unrenderable email marked failed' });
    expect(row).toMatchObject({ attempts: 1 });
    expect(row.error).toMatch(/invalid data for email "partnerResumed"/);
    expect(await jobState(jobId)).toBe('failed');
    expect((await system.mailQueue.getJob(jobId))?.attemptsMade).toBe(1);
    expect((await system.mail.deadLetters.list(500)).map((d) => d.jobId)).toContain(jobId);
    expect(system.smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(0);
  });

  it('SMTP down, then up: the invitation arrives exactly once', async () => {
    const partner = await newPartner(system, 'outage');
    const to = customer('outage');
    await system.smtp.stop();
    let smtpStopped = true;
    try {
      const { workflowId } = await offer(system, partner, to);
      const jobId = `${workflowId}-invitation-1`;
      const failing = await waitFor(
        async () => {
          const row = await emailRow(jobId);
          return row && row.attempts >= 1 && row.status === 'queued' ? row : undefined;
        },
        { what: 'a failed first attempt at the invitation' },
      );
      expect(failing.error).toMatch(/ECONNREFUSED|connect/i);
      expect(await jobState(jobId)).toMatch(/delayed|waiting|active/);

      await system.smtp.start();
      smtpStopped = false;
      await invitationLink(system, to);
      await waitFor(async () => (await jobState(jobId)) === 'completed', { what: 'the invitation job to complete' });
      const sent = await emailRow(jobId);
      expect(sent).toMatchObject({ status: 'sent', error: null });
      expect(sent?.attempts).toBeGreaterThanOrEqual(2);
      expect(mailsTo(system, to.adminEmail, subjects.invitation)).toHaveLength(1);
    } finally {
      if (smtpStopped) await system.smtp.start();
    }
  });

  it('when telling the workflow of a refused address fails, retries only the telling, not the address', async () => {
    // A mail worker of its own whose report fails once, as if Temporal were briefly away.
    const reports: string[] = [];
    const own = await ownMailWorker('report', {
      onUndeliverable: (_job, reason) => {
        reports.push(reason);
        return reports.length === 1 ? Promise.reject(new Error('temporal unavailable')) : Promise.resolve();
      },
    });
    const { queue } = own;
    try {
      const to = `nobody@${unique('report')}.example`;
      const jobId = `relationship-${unique('wf')}-sign-in-1`;
      await own.mail.enqueue(jobId, signInJob(to));
      await waitFor(async () => (await (await queue.getJob(jobId))?.getState()) === 'failed', { what: 'the job to fail for good' });
      // Read the job again: a copy fetched before it moved holds the old counters.
      const job = await queue.getJob(jobId);
      expect(job?.attemptsMade).toBe(2);
      expect(reports).toHaveLength(2);
      expect(reports[1]).toMatch(/550/);
      expect(system.smtp.rejected.filter((address) => address === to)).toHaveLength(1);
      expect(await emailRow(jobId)).toMatchObject({ status: 'failed', attempts: 1 });
    } finally {
      await own.close();
    }
  });

  // Before: the `sent` write shared the SMTP call's catch, so Postgres failing just after the SMTP
  // server took the message failed the job, and its retry sent the message again (found by the chaos suite).
  it('Postgres failing right after the SMTP server took a message: the retry records it and sends nothing again', async () => {
    // The real database, except that recording the first `sent` fails, as if Postgres went away at that instant.
    let sentWritesFailed = 0;
    const emailMessage = new Proxy(system.db.emailMessage, {
      get(target, property, receiver) {
        if (property !== 'update') return Reflect.get(target, property, receiver) as unknown;
        return (args: Parameters<typeof target.update>[0]) => {
          if (args.data.status === 'sent' && sentWritesFailed === 0) {
            sentWritesFailed++;
            return Promise.reject(new Error('Connection terminated unexpectedly'));
          }
          return target.update(args);
        };
      },
    });
    const db = new Proxy(system.db, { get: (target, property, receiver) => (property === 'emailMessage' ? emailMessage : (Reflect.get(target, property, receiver) as unknown)) });
    const own = await ownMailWorker('sentfail', { db });
    const { queue } = own;
    try {
      const to = `${unique('sentfail')}@contoso.example`;
      const jobId = `relationship-${unique('wf')}-sign-in-1`;
      await own.mail.enqueue(jobId, signInJob(to));
      await waitFor(async () => (await (await queue.getJob(jobId))?.getState()) === 'completed', { what: 'the job to complete on its retry' });
      expect(sentWritesFailed).toBe(1);
      expect((await queue.getJob(jobId))?.attemptsMade).toBe(2);
      expect(await emailRow(jobId)).toMatchObject({ status: 'sent', attempts: 1, smtpMessageId: `<${jobId}@partnerflow>` });
      expect(system.smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(1);
    } finally {
      await own.close();
    }
  });

  it('an address refused with 550 is not retried; the workflow is told and the partner gets one email', async () => {
    const partner = await newPartner(system, 'refused');
    const to = { ...customer('refused'), adminEmail: '' };
    to.adminEmail = `nobody@${to.tenantDomain}`;
    // The reminder (after 3 s) is refused too: still one email to the partner for this invitation.
    const { id, workflowId, handle } = await offer(system, partner, to, { invitationTtl: '8s', policy: { reminderBeforeExpiry: '5s' } });
    const jobId = `${workflowId}-invitation-1`;

    const failed = await waitFor(async () => {
      const row = await emailRow(jobId);
      return row?.status === 'failed' ? row : undefined;
    }, { what: 'the invitation row marked failed' });
    expect(failed.attempts).toBe(1);
    expect(failed.error).toMatch(/550/);
    // The row is marked before the worker tells the workflow and fails the job, so wait for the job too.
    await waitFor(async () => (await (await system.mailQueue.getJob(jobId))?.getState()) === 'failed', { what: 'the mail job failed in BullMQ' });
    // Read the job again: a copy fetched before it moved holds the old counters.
    const job = await system.mailQueue.getJob(jobId);
    expect(job?.attemptsMade).toBe(1);

    const told = await waitFor(() => mailsTo(system, partner.contactEmail, /could not deliver your invitation/)[0], { what: 'the deliveryFailed email to the partner' });
    expect(told.parsed.text).toContain(to.adminEmail);
    expect(told.parsed.text).toMatch(/550/);

    const state = await handle.query(getStateQuery);
    expect(state.invitation.deliveryFailed).toBe(true);
    expect(state.invitation.deliveryFailure).toMatchObject({ template: 'invitation', partnerTold: true, round: 0 });
    const shown = await waitFor(async () => {
      const rel = await readModel(partner, id);
      return rel.invitationDeliveryFailure ? rel : undefined;
    }, { what: 'invitationDeliveryFailure in the partner API' });
    expect(relationshipSchema.parse(shown).invitationDeliveryFailure?.reason).toMatch(/550/);
    const audit = await system.db.auditEvent.findMany({ where: { relationshipId: id, action: 'invitation.undeliverable' } });
    expect(audit).toHaveLength(1);

    // The reminder bounces as well, then the invitation expires and the partner hears of that:
    // by then any second delivery-failure email would have been sent.
    await waitFor(async () => (await emailRow(`${workflowId}-invitation-2`))?.status === 'failed', { what: 'the refused reminder' });
    await waitFor(() => mailsTo(system, partner.contactEmail, subjects.invitationExpired)[0], { what: 'the invitation-expired email' });
    expect(mailsTo(system, partner.contactEmail, /could not deliver your invitation/)).toHaveLength(1);
    expect(await system.db.auditEvent.count({ where: { relationshipId: id, action: 'invitation.undeliverable' } })).toBe(1);

    // The signal path, for test/replay.test.ts (RECORD_HISTORIES=1 only).
    expect((await handle.result()).status).toBe('invitationExpired');
    await recordHistory(system.temporal, 'invitation-undeliverable-then-expires-writes-in-order', workflowId);
  });
});
