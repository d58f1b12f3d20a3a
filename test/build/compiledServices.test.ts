import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../src/config/projectRoot.js';
import { apiEntry, dist, ensureBuilt, startCompiled, workerEntry, type Compiled } from '../support/compiledProcess.js';
import { freePort } from '../support/freePort.js';
import { apiClient } from '../support/http.js';
import { startSmtpCatcher, type SmtpCatcher } from '../support/smtpCatcher.js';
import { TEST_PAYLOAD_KEY_ENV } from '../support/testConfig.js';

// The build is what production runs: `npm run build`, then plain `node` on
// dist/ with no TypeScript loader anywhere. This file starts the compiled
// worker and API as child processes on the suite's services and sends one offer
// through them, so a worker that cannot load the prebuilt workflow bundle, an
// asset the compiled code cannot find, or a dependency only tsx provided fails
// here rather than in a deployment.

/** The command line and environment the kernel holds for `pid` (Linux). */
function processImage(pid: number): { argv: string[]; env: Map<string, string> } {
  const split = (file: string) => readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
  const env = new Map(split('environ').map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const));
  return { argv: split('cmdline'), env };
}

describe('compiled services (npm run build, plain node)', () => {
  const suffix = randomBytes(4).toString('hex');
  const queuePrefix = `pftest-compiled-${suffix}`;
  const operatorToken = `operator-${randomBytes(12).toString('hex')}`;
  let smtp: SmtpCatcher;
  let baseUrl: string;
  let worker: Compiled;
  let api: Compiled;

  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  beforeAll(async () => {
    smtp = await startSmtpCatcher();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // Only what the services need: in particular no NODE_OPTIONS (vitest's or
    // anyone's) that could slip a loader in.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `test-compiled-${suffix}`,
      QUEUE_PREFIX: queuePrefix,
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      SMTP_URL: smtp.url,
      OPERATOR_TOKEN: operatorToken,
      SESSION_SECRET: randomBytes(32).toString('hex'),
      LINK_SECRET: randomBytes(32).toString('hex'),
      ...TEST_PAYLOAD_KEY_ENV,
    };
    worker = startCompiled('worker', workerEntry, env);
    api = startCompiled('api', apiEntry, env);
    await Promise.all([
      worker.until(() => worker.hasEvent('worker.started'), 'the worker.started log line', 60_000),
      api.until(async () => (await fetch(`${baseUrl}/healthz`).catch(() => undefined))?.ok, '/healthz answering', 60_000),
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const service of [worker, api]) if (service && !service.exit) service.child.kill('SIGKILL');
    await smtp?.close();
    // The queues' keys under this file's own prefix.
    const redis = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const keys = await redis.keys(`${queuePrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it('runs from dist/ with plain node: no TypeScript loader in the command line or NODE_OPTIONS', () => {
    if (!existsSync('/proc/self/cmdline')) return;
    for (const [service, entry] of [
      [worker, workerEntry],
      [api, apiEntry],
    ] as const) {
      const image = processImage(service.child.pid ?? 0);
      // node, then the script: no --import / --loader / --require before it.
      expect(image.argv).toEqual([process.execPath, entry]);
      expect(image.env.has('NODE_OPTIONS')).toBe(false);
      expect(image.argv.join(' ')).not.toMatch(/tsx/);
    }
  });

  it('the compiled workflowBundle module hands the worker the prebuilt bundle', () => {
    const moduleUrl = new URL(`file://${path.join(dist, 'src', 'system', 'workflowBundle.js')}`).href;
    const result = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(moduleUrl)}); console.log(JSON.stringify(await m.loadWorkflowBundle()));`],
      { cwd: projectRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 },
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ codePath: path.join(dist, 'workflow-bundle.js') });
  });

  it('is ready, runs an offer through the prebuilt workflow bundle to an invitation email, and stops cleanly on SIGTERM', async () => {
    const operator = apiClient(baseUrl, operatorToken);
    const ready = await operator.get('/readyz');
    expect(ready.status, ready.text).toBe(200);

    const tenantDomain = `compiled-${suffix}.example.com`;
    const adminEmail = `admin@${tenantDomain}`;
    const created = await operator.post('/api/v1/admin/partners', { name: 'Compiled Partner', contactEmail: 'ops@compiled.example' });
    expect(created.status, created.text).toBe(201);
    const partner = apiClient(baseUrl, String(created.json.apiKey));
    const registered = await operator.put(`/api/v1/admin/tenants/${tenantDomain}`, { name: 'Compiled Tenant', admins: [adminEmail] });
    expect(registered.status, registered.text).toBe(201);

    const offer = await partner.post('/api/v1/relationships', {
      customer: { tenantDomain, adminEmail, name: 'Compiled Tenant' },
      roles: ['user-administrator'],
      terms: 'Built, pruned and run with plain node.',
    });
    expect(offer.status, offer.text).toBe(201);
    // The workflow (prebuilt bundle) ran its activity, and the mail worker sent the email.
    const invitation = await worker.until(() => smtp.messages.find((m) => m.to.includes(adminEmail)), 'the invitation email');
    expect(invitation.parsed.subject).toContain('Compiled Partner');
    expect(invitation.parsed.text).toContain('/invitations/');

    worker.child.kill('SIGTERM');
    api.child.kill('SIGTERM');
    const [workerExit, apiExit] = await Promise.all([worker.exited, api.exited]);
    expect(workerExit, worker.output()).toEqual({ code: 0, signal: null });
    expect(apiExit, api.output()).toEqual({ code: 0, signal: null });
    expect(worker.hasEvent('worker.stopped'), worker.output()).toBe(true);
    expect(api.hasEvent('api.stopped'), api.output()).toBe(true);
  }, 90_000);
});
