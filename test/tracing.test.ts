import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTracing, type Tracing } from '../src/infra/tracing.js';
import { createMetricsRegistry } from '../src/operator/healthRoutes.js';
import { buildApp } from '../src/system/httpApp.js';
import { createProcessLogger, openApiParts, type ApiParts } from '../src/system/system.js';
import { ensureBuilt, startCompiled, workerEntry, type Compiled } from './support/compiledProcess.js';
import { freePort } from './support/freePort.js';
import { apiClient, postForm } from './support/http.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlpReceiver.js';
import { linkIn } from './support/relationshipDriver.js';
import { startSmtpCatcher, type SmtpCatcher } from './support/smtpCatcher.js';
import { testConfig, TEST_PAYLOAD_KEY_ENV } from './support/testConfig.js';
import { waitFor } from './support/waitFor.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhookReceiver.js';

// Tracing end to end, across two processes, into a tracing backend of the
// test's own (an OTLP/HTTP receiver): the API runs here, traced as apiMain.ts
// traces it; the worker is the compiled build (the prebuilt traced workflow
// bundle) in a child process. The customer's Yes on the invitation page must
// be one trace from the API's request through the Temporal update, the
// workflow and the activity that records `active`, to the email and webhook
// jobs that step enqueued; and no span may carry the customer's address.

describe('tracing: one trace from the customer’s accept to the active transition, across processes', () => {
  const suffix = randomBytes(4).toString('hex');
  const tenantDomain = `traced-${suffix}.example.com`;
  const adminEmail = `admin@${tenantDomain}`;
  const partnerEmail = `ops-${suffix}@partner.example`;
  let otlp: OtlpReceiver;
  let smtp: SmtpCatcher;
  let hooks: WebhookReceiver;
  let tracing: Tracing;
  let api: ApiParts;
  let server: Server;
  let worker: Compiled;
  let baseUrl: string;
  let env: Record<string, string>;
  const otelEnvBefore = { ...process.env };

  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  beforeAll(async () => {
    [otlp, smtp, hooks] = await Promise.all([startOtlpReceiver(), startSmtpCatcher(), startWebhookReceiver()]);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
    env = {
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `test-tracing-${suffix}`,
      QUEUE_PREFIX: `pftest-tracing-${suffix}`,
      PUBLIC_BASE_URL: baseUrl,
      SMTP_URL: smtp.url,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      OPERATOR_TOKEN: `operator-${randomBytes(12).toString('hex')}`,
      SESSION_SECRET: randomBytes(32).toString('hex'),
      LINK_SECRET: randomBytes(32).toString('hex'),
      ...TEST_PAYLOAD_KEY_ENV,
    };

    // The API here, started as apiMain.ts starts it: tracing first, from the OTEL_* variables.
    Object.assign(process.env, otel);
    tracing = await startTracing('partnerflow-api');
    const config = testConfig({ ...env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' });
    api = await openApiParts(config, createProcessLogger(config, 'test-tracing-api'), { tracing });
    server = createServer(buildApp({ ...api, registry: createMetricsRegistry() }));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

    // The worker in another process, as a deployment runs it.
    worker = startCompiled('worker', workerEntry, { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', LOG_LEVEL: 'info', ...env, ...otel });
    await worker.until(() => worker.hasEvent('worker.started'), 'the worker.started log line', 60_000);
  }, 120_000);

  afterAll(async () => {
    if (worker && !worker.exit) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await api?.close();
    await Promise.all([otlp?.close(), smtp?.close(), hooks?.close()]);
    for (const name of Object.keys(process.env)) if (!(name in otelEnvBefore)) delete process.env[name];
    const redis = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const keys = await redis.keys(`pftest-tracing-${suffix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it('follows the Yes from the API request through the update, the workflow and the activity that records `active`, to the jobs it enqueued', async () => {
    const operator = apiClient(baseUrl, env.OPERATOR_TOKEN);
    const created = await operator.post('/api/v1/admin/partners', { name: 'Traced Partner', contactEmail: partnerEmail, webhookUrl: hooks.endpoint('/traced', () => 204) });
    expect(created.status, created.text).toBe(201);
    const partner = apiClient(baseUrl, String(created.json.apiKey));
    const registered = await operator.put(`/api/v1/admin/tenants/${tenantDomain}`, { name: 'Traced Tenant', admins: [adminEmail] });
    expect(registered.status, registered.text).toBe(201);
    const offer = await partner.post('/api/v1/relationships', { customer: { tenantDomain, adminEmail, name: 'Traced Tenant' }, roles: ['user-administrator'] });
    expect(offer.status, offer.text).toBe(201);
    const relationshipId = String(offer.json.id);

    const invitation = await worker.until(() => smtp.messages.find((m) => m.to.includes(adminEmail)), 'the invitation email');
    const link = linkIn(invitation.parsed.text || '', '/invitations');
    const answered = await postForm(`${baseUrl}${new URL(link).pathname}`, { choice: 'yes' });
    expect(answered.status, answered.text).toBe(200);
    await waitFor(async () => (await partner.get(`/api/v1/relationships/${relationshipId}`)).json.status === 'active', { what: 'the relationship active' });

    // The POST's span (the customer's browser sends no trace context: it is the root).
    const accept = await waitFor(() => otlp.spans.find((s) => s.name === 'POST /invitations/:token' && s.attributes['http.response.status_code'] === 200), {
      what: `the accept request’s span; the API sent: ${otlp.spans.filter((s) => s.service === 'partnerflow-api').map((s) => `${s.name} ${JSON.stringify(s.attributes)}`).join(', ')}`,
    });
    expect(accept).toMatchObject({ service: 'partnerflow-api', parentSpanId: '', attributes: { 'http.route': '/invitations/:token', 'http.request.method': 'POST' } });
    const inTrace = () => otlp.spans.filter((s) => s.traceId === accept.traceId);
    const find = (name: string, where: (s: ReceivedSpan) => boolean = () => true) => inTrace().find((s) => s.name === name && where(s));

    // Exported in batches by two processes: wait for the last steps, the jobs the `active` step enqueued.
    const webhookJob = await waitFor(() => find('process webhooks', (s) => s.attributes['partnerflow.webhook.event'] === 'relationship.active'), {
      what: `the active webhook's job span in trace ${accept.traceId}; the trace holds: ${inTrace().map((s) => s.name).join(', ')}`,
    });
    const activeRecorded = find('RunActivity:recordTransitions', (s) => s.attributes['partnerflow.transition.to'] === 'active');
    const update = find('StartWorkflowUpdate:accept');
    const handled = find('HandleUpdate:accept');
    const partnerMail = await waitFor(() => find('process mail', (s) => s.attributes['partnerflow.mail.template'] === 'accepted'), { what: 'the accepted email’s job span' });

    // Each from the process that did the work, all in the accept's trace.
    expect(update).toMatchObject({ service: 'partnerflow-api', parentSpanId: accept.spanId });
    expect(handled).toMatchObject({ service: 'partnerflow-worker', parentSpanId: update?.spanId });
    expect(activeRecorded).toMatchObject({ service: 'partnerflow-worker', attributes: { 'partnerflow.relationship.id': relationshipId } });
    // The webhook's job is a child of the activity that recorded `active` and enqueued it.
    expect(webhookJob).toMatchObject({ service: 'partnerflow-worker', parentSpanId: activeRecorded?.spanId });
    expect(partnerMail.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'partnerflow.relationship.id': relationshipId });

    // Not merely the same trace id: the active step's span descends from the accept's request, parent by parent.
    // (A workflow's span for scheduling an activity ends, and is exported, once the activity's result is back.)
    const ancestry = (span: ReceivedSpan | undefined): string[] => {
      const byId = new Map(inTrace().map((s) => [s.spanId, s]));
      const names: string[] = [];
      for (let at = span; at; at = byId.get(at.parentSpanId)) names.push(at.name);
      return names;
    };
    const chain = ['RunActivity:recordTransitions', 'StartActivity:recordTransitions', 'HandleUpdate:accept', 'StartWorkflowUpdate:accept', 'POST /invitations/:token'];
    await waitFor(() => ancestry(activeRecorded).length === chain.length, { what: `the active step's ancestry; so far: ${ancestry(activeRecorded).join(' < ')}` }).catch(() => undefined);
    expect(ancestry(activeRecorded)).toEqual(chain);
    expect(ancestry(webhookJob).slice(1)).toEqual(chain);

    // Identifiers only: nothing any span or span event says holds the admin's or the partner's address, or the link's token.
    const token = new URL(link).pathname.split('/').pop() ?? '';
    const said = JSON.stringify(otlp.spans.map(({ name, attributes, events }) => ({ name, attributes, events })));
    expect(said).toContain(relationshipId);
    for (const secret of [adminEmail, partnerEmail, token]) expect(said).not.toContain(secret);
    // Plain values only: the workflow's spans leave the sandbox with its whole WorkflowInfo, of which objects (memo, search attributes, last failure) are dropped.
    const objects = otlp.spans.flatMap((s) => Object.entries(s.attributes).filter(([, value]) => typeof value === 'object' && !Array.isArray(value)).map(([key]) => `${s.name}: ${key}`));
    expect(objects).toEqual([]);
    expect(handled?.attributes).toMatchObject({ workflowId: `relationship-${relationshipId}`, workflowType: 'relationshipWorkflow' });

    expect(tracing.enabled).toBe(true);
    expect(otlp.rejected).toEqual([]);
    // The compiled worker ran the traced bundle with its span sink registered.
    expect(worker.lines.join('\n')).not.toMatch(/unregistered external sink|External sink function threw/);
  }, 90_000);
});
