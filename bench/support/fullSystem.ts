import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { buildApp } from '../../src/system/httpApp.js';
import { createMetricsRegistry } from '../../src/operator/healthRoutes.js';
import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config/config.js';
import { createProcessLogger, openApiParts } from '../../src/system/system.js';
import { createWorkerRuntime } from '../../src/system/workerRuntime.js';
import { apiClient, getPage, postForm } from '../../test/support/http.js';
import { testConfig } from '../../test/support/testConfig.js';
import { relationshipWorkflowId } from '../../src/contract/relationship.js';
import type { BenchEnvironment } from './benchEnvironment.js';
import type { Cleanup } from './cleanup.js';
import { legTimer, type OnboardingSystem } from './onboardingSystem.js';
import { startProcessTopology, type ProcessTopology } from './processTopology.js';
import { startSmtpInbox } from './smtpInbox.js';
import { pollUntil } from './stats.js';

export interface FullSystemSettings {
  workflowBundle: WorkflowBundleWithSourceMap;
  logLevel: string;
  /** MAIL_RATE_PER_SECOND; undefined keeps the product default. */
  mailRatePerSecond: number | undefined;
  partners: number;
  pollMs: number;
  stepTimeoutMs: number;
  /** in-process: API and worker runtime in this process (as the tests); processes: the compiled API and `workers` compiled workers. */
  topology: 'in-process' | 'processes';
  workers: number;
  /** processes: each started process writes a .cpuprofile of its whole life here when it exits. */
  cpuProfileDir?: string;
  progress: (line: string) => void;
}

/**
 * The real system, wired as test/support/testSystem.ts wires it (which needs
 * vitest, so it is not imported): the API on a real port, the worker runtime
 * (Temporal worker + BullMQ mail and webhook workers), Postgres, Redis and an
 * SMTP server, all in this process. A relationship is driven the way people
 * drive it: the partner posts the offer, the customer opens the emailed link
 * and answers Yes, the partner reads the relationship until it is active.
 * With topology `processes` the API and the workers are compiled child
 * processes instead (bench/support/processTopology.ts); this process then
 * only drives them, prepares tenants and reads histories.
 */
export async function startFullSystem(
  env: BenchEnvironment,
  cleanup: Cleanup,
  settings: FullSystemSettings,
): Promise<OnboardingSystem & { config: Config; mailReceived(): number; readOnce(): Promise<void>; temporal: Client; processes?: ProcessTopology }> {
  const inbox = await startSmtpInbox();
  cleanup.defer('close the SMTP server', () => inbox.close());

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.defer('close the API server', async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const inProcessUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const config = testConfig({
    LOG_LEVEL: settings.logLevel,
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    TEMPORAL_ADDRESS: env.temporalAddress,
    TEMPORAL_TASK_QUEUE: `bench-full-${env.runId}`,
    QUEUE_PREFIX: env.queuePrefix,
    SMTP_URL: inbox.url,
    PUBLIC_BASE_URL: inProcessUrl,
    // A bench is one sender making thousands of offers: the abuse quotas would measure themselves.
    PARTNER_MAIL_PER_HOUR: '1000000',
    RECIPIENT_MAIL_PER_HOUR: '1000000',
    ...(settings.mailRatePerSecond === undefined ? {} : { MAIL_RATE_PER_SECOND: String(settings.mailRatePerSecond) }),
  });
  const log = createProcessLogger(config, 'bench-full');

  // The API process's parts, as src/system/apiMain.ts opens them.
  const api = await openApiParts(config, log);
  cleanup.defer('close the API parts', async () => {
    await api.mailQueue.obliterate({ force: true }).catch(() => undefined);
    await api.webhookQueue.obliterate({ force: true }).catch(() => undefined);
    await api.close();
  });
  const db = api.db;
  let baseUrl = inProcessUrl;
  let processes: ProcessTopology | undefined;
  if (settings.topology === 'in-process') {
    server.on('request', buildApp({ ...api, registry: createMetricsRegistry() }));
    const worker = await createWorkerRuntime(config, log, { workflowBundle: settings.workflowBundle });
    const running = worker.run();
    cleanup.defer('shut the worker runtime down', async () => {
      await worker.shutdown();
      await running;
    });
  } else {
    // This process keeps its API parts only for the database (tenants) and the Temporal client (histories).
    processes = await startProcessTopology(config, api.temporal, cleanup, settings.workers, settings.progress, settings.cpuProfileDir);
    baseUrl = processes.baseUrl;
  }

  const operator = apiClient(baseUrl, config.OPERATOR_TOKEN);
  const partnerKeys: string[] = [];
  for (let i = 0; i < settings.partners; i += 1) {
    const created = await operator.post('/api/v1/admin/partners', { name: `Bench Partner ${i}`, contactEmail: `ops${i}@partner${i}.bench.example` });
    if (created.status !== 201) throw new Error(`creating a partner answered ${created.status}: ${created.text}`);
    partnerKeys.push(String(created.json.apiKey));
  }
  const partners = partnerKeys.map((key) => apiClient(baseUrl, key));
  let lastRead: { partner: ReturnType<typeof apiClient>; id: string } | undefined;

  const tenantOf = (index: number) => {
    const tenantDomain = `c${index}-${env.runId}.bench.example.com`;
    return { tenantDomain, adminEmail: `admin@${tenantDomain}` };
  };

  return {
    name: 'full system',
    config,
    temporal: api.temporal,
    processes,
    mailReceived: () => inbox.received,
    // One partner read of the last onboarded relationship: the bench polls with these, so it measures what one costs.
    async readOnce() {
      if (!lastRead) throw new Error('nothing onboarded yet');
      const res = await lastRead.partner.get(`/api/v1/relationships/${lastRead.id}`);
      if (res.status !== 200) throw new Error(`reading the relationship answered ${res.status}`);
    },
    // Only a verified admin's Yes counts: the customers exist in the tenant directory before their offers.
    async prepare(first, count) {
      const indexes = Array.from({ length: count }, (_, i) => first + i);
      await db.tenant.createMany({ data: indexes.map((i) => ({ domain: tenantOf(i).tenantDomain, name: `Customer ${i}`, registeredVia: 'operator' })) });
      await db.tenantAdmin.createMany({ data: indexes.map((i) => ({ tenantDomain: tenantOf(i).tenantDomain, email: tenantOf(i).adminEmail, addedVia: 'operator' })) });
    },
    async onboard(index) {
      const partner = partners[index % partners.length];
      if (!partner) throw new Error('no partners');
      const { tenantDomain, adminEmail } = tenantOf(index);
      const timer = legTimer();

      const offer = await partner.post('/api/v1/relationships', {
        customer: { tenantDomain, adminEmail, name: `Customer ${index}` },
        roles: ['user-administrator', 'license-administrator'],
        terms: 'We manage your users and licenses during business hours.',
      });
      if (offer.status !== 201) throw new Error(`offer answered ${offer.status}: ${offer.text.slice(0, 200)}`);
      const id = String(offer.json.id);
      timer.lap('POST offer');

      const link = await inbox.invitationLink(adminEmail, settings.stepTimeoutMs);
      timer.lap('→ email received');
      const page = await getPage(link);
      if (page.status !== 200) throw new Error(`invitation page answered ${page.status} (${titleOf(page.text)})`);
      const acceptSent = timer.lap('GET invitation page');

      const answered = await postForm(link, { choice: 'yes' });
      if (answered.status !== 200) throw new Error(`accepting answered ${answered.status} (${titleOf(answered.text)})`);
      timer.lap('POST accept (update)');
      let reads = 0;
      await pollUntil('status active in the read model', settings.pollMs, settings.stepTimeoutMs, async () => {
        reads += 1;
        const res = await partner.get(`/api/v1/relationships/${id}`);
        if (res.status !== 200) throw new Error(`reading the relationship answered ${res.status}: ${res.text.slice(0, 200)}`);
        return res.json.status === 'active' ? true : undefined;
      });
      const activeSeen = timer.lap('→ API shows active');
      lastRead = { partner, id };
      return { acceptToActiveMs: activeSeen - acceptSent, legs: timer.legs, workflowId: relationshipWorkflowId(id), reads };
    },
  };
}

/** The <title> of an HTML page, to name a refusal in one line. */
function titleOf(html: string): string {
  return /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? html.slice(0, 100);
}
