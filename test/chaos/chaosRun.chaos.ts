import { randomInt } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/projectRoot.js';
import { checkConsistency } from '../../src/operator/consistency/consistencyCheck.js';
import type { ConsistencyReport } from '../../src/operator/consistency/consistencyReport.js';
import { createProcessLogger, openApiParts } from '../../src/system/system.js';
import { apiEntry, ensureBuilt, workerEntry } from '../support/compiledProcess.js';
import { freePort } from '../support/freePort.js';
import { startSmtpCatcher } from '../support/smtpCatcher.js';
import { testConfig, TEST_PAYLOAD_KEY_ENV } from '../support/testConfig.js';
import { waitFor } from '../support/waitFor.js';
import { startWebhookReceiver } from '../support/webhookReceiver.js';
import { createPartner, drive, type ChaosEnvironment, type Driven, type DrivenPartner } from './chaosDriver.js';
import { countEmails, countWebhooks, type DrivenRelationship } from './deliveryCounts.js';
import { describeSchedule, faultKinds, faultSchedule, type Fault, type FaultKind } from './faultSchedule.js';
import { chaosDirectory, startPrivatePostgres, startPrivateRedis, startPrivateTemporal } from './privateServices.js';
import { expectations, scenarios } from './scenarios.js';
import { supervise, type SupervisedProcess } from './supervisedProcess.js';

// The chaos suite (npm run test:chaos; docs/reliability.md): a few hundred
// relationships driven through every path while a seeded schedule kills the
// worker and the API, restarts Temporal, stops Redis and Postgres and takes the
// SMTP server down. Everything runs on private instances. At the end the
// consistency checker (the operator's `check`) and the counts at the SMTP server
// and the webhook receiver say whether anything was lost, doubled or left stuck.
//
// CHAOS_SEED            replay a run's schedule and scenario mix (printed at start)
// CHAOS_RELATIONSHIPS   how many to drive (default 200)
// CHAOS_FAULTS          comma-separated fault kinds, or "none" (default: every kind)
// CHAOS_OUTAGE_SCALE    multiplies the Redis, Postgres and SMTP outages (default 1)

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomInt(2 ** 31);
const relationships = Number(process.env.CHAOS_RELATIONSHIPS ?? 200);
const outageScale = Number(process.env.CHAOS_OUTAGE_SCALE ?? 1);
const kinds: FaultKind[] =
  process.env.CHAOS_FAULTS === 'none'
    ? []
    : process.env.CHAOS_FAULTS
      ? process.env.CHAOS_FAULTS.split(',').map((k) => {
          if (!(faultKinds as readonly string[]).includes(k)) throw new Error(`CHAOS_FAULTS: unknown kind ${k} (${faultKinds.join(', ')})`);
          return k as FaultKind;
        })
      : [...faultKinds];
const CONCURRENCY = 24;
const SETTLE_MS = Number(process.env.CHAOS_SETTLE_MS ?? 240_000);

const log = (line: string) => process.stdout.write(`[chaos] ${line}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function retrying<T>(what: string, attempt: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  return waitFor(async () => ({ value: await attempt() }), { what, timeoutMs, intervalMs: 500 }).then((r) => r.value);
}

describe('chaos', () => {
  it(`drives ${relationships} relationships through every path while every part fails: nothing lost, doubled or stuck`, async () => {
    const schedule = faultSchedule(seed, { kinds, outageScale, firstAtMs: 8_000 });
    log(`seed ${seed} (replay: CHAOS_SEED=${seed} CHAOS_RELATIONSHIPS=${relationships} CHAOS_OUTAGE_SCALE=${outageScale}${process.env.CHAOS_FAULTS ? ` CHAOS_FAULTS=${process.env.CHAOS_FAULTS}` : ''} npm run test:chaos)`);
    log(`fault schedule (${schedule.length} faults):\n${describeSchedule(schedule) || '  none'}`);
    const started = Date.now();

    await ensureBuilt();
    const dir = chaosDirectory();
    const cleanup: (() => Promise<unknown>)[] = [() => Promise.resolve(dir.remove())];
    const processes: SupervisedProcess[] = [];
    try {
      const postgres = await startPrivatePostgres(dir.dir);
      cleanup.unshift(() => postgres.stop().catch(() => undefined));
      const redis = await startPrivateRedis(dir.dir);
      cleanup.unshift(() => redis.stop().catch(() => undefined));
      const temporal = await startPrivateTemporal(dir.dir, (line) => log(`temporal: ${line}`));
      cleanup.unshift(() => temporal.stop().catch(() => undefined));
      const smtp = await startSmtpCatcher();
      cleanup.unshift(() => smtp.close());
      const receiver = await startWebhookReceiver();
      cleanup.unshift(() => receiver.close());
      log(`services up in ${Date.now() - started} ms: postgres ${postgres.url}, redis ${redis.url}, temporal ${temporal.address}, smtp ${smtp.url}`);

      const apiPort = await freePort();
      const baseUrl = `http://127.0.0.1:${apiPort}`;
      const settings = {
        DATABASE_URL: postgres.url,
        REDIS_URL: redis.url,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: 'chaos',
        QUEUE_PREFIX: 'chaos',
        SMTP_URL: smtp.url,
        PUBLIC_BASE_URL: baseUrl,
        PORT: String(apiPort),
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_BACKOFF_MS: '500',
        WEBHOOK_ATTEMPTS: '30',
        MAIL_RATE_PER_SECOND: '200',
        RECIPIENT_MAIL_PER_HOUR: '100000',
        PARTNER_MAIL_PER_HOUR: '100000',
        PARTNER_RATE_LIMIT_POINTS: '100000',
        GRANT_RECONCILE_INTERVAL_SECONDS: '30',
      };
      // The test's own clients log only what is fatal: every outage would otherwise flood the run's output.
      const config = testConfig({ LOG_LEVEL: 'fatal', ...settings });
      const processEnv = {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        ...settings,
        OPERATOR_TOKEN: config.OPERATOR_TOKEN,
        SESSION_SECRET: config.SESSION_SECRET,
        LINK_SECRET: config.LINK_SECRET,
        ALLOW_SHORT_DURATIONS: 'true',
        RESEND_COOLDOWN_SECONDS: '0',
        ...TEST_PAYLOAD_KEY_ENV,
      };
      // Every line of both processes goes to artifacts/chaos-<name>.log, to trace a finding afterwards.
      const artifacts = path.join(projectRoot, 'artifacts');
      mkdirSync(artifacts, { recursive: true });
      for (const name of ['worker', 'api']) rmSync(path.join(artifacts, `chaos-${name}.log`), { force: true });
      const worker = supervise('worker', workerEntry, { ...processEnv, LOG_LEVEL: 'info' }, (p) => p.hasEvent('worker.started'), path.join(artifacts, 'chaos-worker.log'));
      const api = supervise('api', apiEntry, { ...processEnv, LOG_LEVEL: 'warn' }, async () => (await fetch(`${baseUrl}/healthz`)).ok, path.join(artifacts, 'chaos-api.log'));
      processes.push(worker, api);
      cleanup.unshift(async () => {
        await Promise.all(processes.map((p) => p.stop()));
      });
      await Promise.all([worker.waitReady(), api.waitReady()]);

      // The test's own client parts: the Temporal client for the customer's and the partner's
      // updates, and the checker's connections.
      const parts = await openApiParts(config, createProcessLogger(config, 'chaos'), { lazyTemporalConnectTimeoutMs: 10_000 });
      cleanup.unshift(() => parts.close());

      const env: ChaosEnvironment = { baseUrl, operatorToken: config.OPERATOR_TOKEN, smtp, receiver, temporal: parts.temporal, stepTimeoutMs: 300_000, log };
      const partnerCount = Math.max(4, Math.ceil(relationships / 20));
      const partners: DrivenPartner[] = [];
      for (let i = 0; i < partnerCount; i++) partners.push(await createPartner(env, i));

      // The scenario mix comes from the seed too: relationship i takes scenario (i + seed) mod 8.
      const driven: Driven[] = Array.from({ length: relationships }, (_, index) => ({
        index,
        scenario: scenarios[(index + seed) % scenarios.length] ?? 'declined',
        partner: partners[index % partnerCount] as DrivenPartner,
        tenantDomain: `c${index}-s${seed}.chaos.example`,
        adminEmail: `admin@c${index}-s${seed}.chaos.example`,
      }));
      const renewalsOf = (id: string) => parts.db.auditEvent.count({ where: { relationshipId: id, action: 'relationship.renewed' } });

      // The driver and the fault schedule run side by side.
      const drivingStarted = Date.now();
      let next = 0;
      const driving = Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < driven.length) {
            const d = driven[next++] as Driven;
            await drive(env, d, renewalsOf).catch((err: unknown) => {
              d.failure = err instanceof Error ? err.message : String(err);
              log(`relationship ${d.index} (${d.scenario}) ${d.id ?? ''}: ${d.failure}`);
            });
          }
        }),
      );
      const injected: Record<FaultKind, number> = { killWorker: 0, killApi: 0, restartTemporal: 0, stopRedis: 0, stopPostgres: 0, smtpDown: 0 };
      const inject = async (fault: Fault) => {
        const wait = drivingStarted + fault.atMs - Date.now();
        if (wait > 0) await pause(wait);
        log(`fault: ${fault.kind} for ${fault.downMs} ms (+${((Date.now() - drivingStarted) / 1000).toFixed(1)}s)`);
        injected[fault.kind]++;
        switch (fault.kind) {
          case 'killWorker':
            return worker.kill9(fault.downMs);
          case 'killApi':
            return api.kill9(fault.downMs);
          case 'restartTemporal':
            await temporal.stop();
            await pause(fault.downMs);
            return temporal.start();
          case 'stopRedis':
            await redis.stop();
            await pause(fault.downMs);
            return redis.start();
          case 'stopPostgres':
            await postgres.stop();
            await pause(fault.downMs);
            return postgres.start();
          case 'smtpDown':
            // Stopped listening: pooled connections get 421, new ones are refused, until it is back.
            await smtp.stop();
            await pause(fault.downMs);
            return smtp.start();
        }
      };
      const faults = (async () => {
        for (const fault of schedule) await inject(fault);
      })();
      await Promise.all([driving, faults]);
      const drivenMs = Date.now() - drivingStarted;
      log(`driving done in ${(drivenMs / 1000).toFixed(1)}s; settling`);

      // Settle: every delivery the outboxes hold is either done or given up.
      const db = parts.db;
      await waitFor(
        async () => {
          const [mail, hooks] = await Promise.all([
            db.emailMessage.count({ where: { status: 'queued' } }),
            db.webhookDelivery.count({ where: { status: { in: ['queued', 'retrying'] } } }),
          ]);
          return mail === 0 && hooks === 0;
        },
        { what: 'the outboxes to drain', timeoutMs: SETTLE_MS, intervalMs: 1_000 },
      ).catch((err: unknown) => log(String(err)));

      const report: ConsistencyReport = await retrying('the consistency check', () =>
        checkConsistency({ db, temporal: parts.temporal, mailQueue: parts.mailQueue, webhookQueue: parts.webhookQueue, taskQueue: 'chaos' }, { outboxAgeMs: 1_000, jobAgeMs: 30_000 }),
      );

      // Emails and webhooks, counted per expected delivery where they arrive (deliveryCounts.ts):
      // each email the scenario causes exactly once at the SMTP server, each transition's webhook
      // under exactly one id at the receiver (the same id again is an allowed redelivery).
      const renewals = new Map(
        (await db.auditEvent.groupBy({ by: ['relationshipId'], where: { action: 'relationship.renewed' }, _count: { _all: true } })).map((g) => [g.relationshipId, g._count._all]),
      );
      const relationshipsDriven: DrivenRelationship[] = driven.flatMap((d) =>
        d.id ? [{ id: d.id, label: `${d.index} ${d.scenario}`, scenario: d.scenario, customerEmail: d.adminEmail, partnerEmail: d.partner.contactEmail, renewals: renewals.get(d.id) ?? 0 }] : [],
      );
      const rows = await db.emailMessage.findMany({ select: { jobId: true, status: true, template: true, relationshipId: true } });
      const rowByMessageId = new Map(rows.map((r) => [`<${r.jobId}@partnerflow>`, r]));
      const emails = countEmails(
        relationshipsDriven,
        smtp.messages.map((m) => ({ messageId: m.parsed.messageId ?? '', to: m.to, row: rowByMessageId.get(m.parsed.messageId ?? '') })),
      );
      // An outbox row that did not end sent is a delivery given up, whatever arrived.
      const unsentEmails = rows.filter((r) => r.status !== 'sent').map((r) => `${r.jobId} (${r.template}, ${r.status})`);
      const hooks = await db.webhookDelivery.findMany({ select: { jobId: true, status: true } });
      const webhooks = countWebhooks(
        relationshipsDriven,
        receiver.received.map((h) => {
          const body = JSON.parse(h.body) as { id: string; type: string; data: { relationshipId: string } };
          return { id: body.id, type: body.type, relationshipId: body.data.relationshipId };
        }),
      );
      const undeliveredWebhooks = hooks.filter((h) => h.status !== 'delivered').map((h) => `${h.jobId} (${h.status})`);
      const badSignatures = receiver.received.filter((h) => !h.check.ok).length;

      // Every relationship where its scenario says.
      const finals = new Map((await db.relationship.findMany({ select: { id: true, status: true } })).map((r) => [r.id, r.status]));
      const wrongState = driven
        .filter((d) => !d.id || finals.get(d.id) !== expectations[d.scenario].status)
        .map((d) => `${d.index} ${d.id ?? '(never created)'} ${d.scenario}: ${d.id ? finals.get(d.id) : '-'} (expected ${expectations[d.scenario].status})${d.failure ? `: ${d.failure}` : ''}`);
      const violations = report.invariants.flatMap((i) => i.violations.map((v) => `${i.name} ${v.relationshipId ?? '-'} ${v.detail}`));
      const stuck = report.invariants.find((i) => i.name === 'noStuckRelationship')?.violations.length ?? 0;

      const summary = {
        seed,
        relationshipsDriven: relationships,
        byScenario: Object.fromEntries(scenarios.map((s) => [s, driven.filter((d) => d.scenario === s).length])),
        faultsInjected: injected,
        faultSchedule: schedule,
        outageScale,
        unplannedProcessExits: { worker: worker.unplannedExits.length, api: api.unplannedExits.length },
        emails: { expected: emails.expected, arrivedAtSmtp: emails.arrived, outboxRows: rows.length, lost: emails.lost.length, doubled: emails.doubled.length, resentSameMessageId: emails.resent.length, unexpected: emails.unexpected.length, stray: emails.stray.length, unsent: unsentEmails.length },
        webhooks: { expected: webhooks.expected, receivedDistinct: webhooks.distinct, redelivered: webhooks.redelivered, lost: webhooks.lost.length, doubled: webhooks.doubled.length, unexpected: webhooks.unexpected.length, undelivered: undeliveredWebhooks.length, badSignatures },
        renewals: [...renewals.values()].reduce((a, b) => a + b, 0),
        stuck,
        wrongState: wrongState.length,
        deadLetters: report.deadLetters.length,
        checker: Object.fromEntries(report.invariants.map((i) => [i.name, i.ok ? 'OK' : `${i.violations.length} violation(s)`])),
        drivingSeconds: Math.round(drivenMs / 1000),
        wallSeconds: Math.round((Date.now() - started) / 1000),
      };
      writeFileSync(path.join(artifacts, 'chaos-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
      log(`summary (artifacts/chaos-summary.json):\n${JSON.stringify(summary, null, 2)}`);
      const findings = {
        wrongState,
        // A step that failed for good is a finding even when the relationship ended where expected.
        stepFailures: driven.filter((d) => d.failure).map((d) => `${d.index} ${d.scenario} ${d.id ?? '(never created)'}: ${d.failure}`),
        checker: violations,
        deadLetters: report.deadLetters.map((d) => `${d.kind} ${d.jobId} ${d.what}: ${d.error ?? ''}`),
        lostEmails: emails.lost,
        doubledEmails: emails.doubled,
        unexpectedEmails: emails.unexpected,
        strayEmails: emails.stray,
        unsentEmails,
        lostWebhooks: webhooks.lost,
        doubledWebhooks: webhooks.doubled,
        unexpectedWebhooks: webhooks.unexpected,
        undeliveredWebhooks,
      };
      const problems = Object.entries(findings).flatMap(([kind, list]) => list.map((line) => `${kind}: ${line}`));
      // Listed, not failed: see countEmails in deliveryCounts.ts.
      if (emails.resent.length > 0) log(`resent under the same Message-ID (seed ${seed}):\n${emails.resent.join('\n')}`);
      const exits = [...worker.unplannedExits.map((e) => `worker exited unasked: ${e}`), ...api.unplannedExits.map((e) => `api exited unasked: ${e}`)];
      if (problems.length + exits.length > 0) log(`problems (seed ${seed}):\n${[...problems.slice(0, 200), ...exits].join('\n')}\n${worker.output()}\n${api.output()}`);

      expect(findings, `seed ${seed}`).toEqual(Object.fromEntries(Object.keys(findings).map((k) => [k, []])));
      expect(badSignatures, `seed ${seed}: webhooks with a bad signature`).toBe(0);
      expect(Object.values(injected).reduce((a, b) => a + b, 0)).toBe(schedule.length);
    } finally {
      for (const step of cleanup) await step().catch((err: unknown) => log(`cleanup: ${String(err)}`));
    }
  });
});
