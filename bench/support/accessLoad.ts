import { Agent, request } from 'node:http';
import { ACCESS_ROLES, grantedRolesOf, partnerOf, tenantDomainOf, ungrantedRoleOf } from './accessSeed.js';

// The load generator of bench/access.ts, in a process of its own (fork, IPC with
// the "advanced" serialization so the latencies come back as one typed array).
// For each job it runs `concurrency` clients in a loop over keep-alive
// connections: a warm-up that is not counted, then `durationMs` measured. A
// request counts when it started inside the measured window. Every answer is
// checked against what the seeding rule says it must be (a wrong `allowed` is
// an error, like a non-200), so the floor and the project are seen to agree.

export type LoadKind = 'check' | 'batch' | 'healthz';

export interface LoadJob {
  baseUrl: string;
  kind: LoadKind;
  warmupMs: number;
  durationMs: number;
  concurrency: number;
  /** Raw API keys: key p is partner p's. */
  keys: string[];
  tenants: number;
  /** Share of checks that must answer allowed: false (half a role not granted, half another partner's tenant). */
  missRate: number;
  /** Checks per batch request. */
  batchSize: number;
  /** Seeds the random choice of tenants, so the two sides' rounds ask alike. */
  seed: number;
}

export interface LoadResult {
  requests: number;
  /** Checks answered in the measured window (a batch request answers batchSize). */
  checks: number;
  measuredMs: number;
  /** One per measured request, in ms. */
  latenciesMs: Float64Array;
  errors: number;
  errorSamples: string[];
  allowed: number;
  denied: number;
}

/** mulberry32: small, fast, seeded. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Check {
  tenant: string;
  role: string;
  expected: boolean;
}

function send(agent: Agent, url: URL, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run(job: LoadJob): Promise<LoadResult> {
  const url = new URL(job.baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const rand = random(job.seed);
  const partners = job.keys.length;
  if (partners < 2) throw new Error('needs at least 2 partners (a miss asks with another partner’s key)');
  const pick = (n: number) => Math.floor(rand() * n);
  const keyOf = (p: number) => job.keys[p % partners] ?? '';

  /** A check of a random tenant by its own partner (or, for a miss, its neighbour). */
  function nextCheck(): { key: string; check: Check } {
    const i = pick(job.tenants);
    const roll = rand();
    const own = partnerOf(i, partners);
    if (roll < job.missRate / 2) return { key: keyOf(own), check: { tenant: tenantDomainOf(i), role: ungrantedRoleOf(i), expected: false } };
    const role = grantedRolesOf(i)[pick(2)] ?? ACCESS_ROLES[0] ?? '';
    if (roll < job.missRate) return { key: keyOf(own + 1), check: { tenant: tenantDomainOf(i), role, expected: false } };
    return { key: keyOf(own), check: { tenant: tenantDomainOf(i), role, expected: true } };
  }

  /** A batch is one partner's: checks of its own tenants (and misses among them). */
  function nextBatch(): { key: string; checks: Check[] } {
    const p = pick(partners);
    const ownTenants = Math.max(1, Math.floor((job.tenants - p - 1) / partners) + 1);
    const checks = Array.from({ length: job.batchSize }, () => {
      const i = p + partners * pick(ownTenants);
      const role = rand() < job.missRate ? ungrantedRoleOf(i) : (grantedRolesOf(i)[pick(2)] ?? '');
      return { tenant: tenantDomainOf(i), role, expected: role !== ungrantedRoleOf(i) };
    });
    return { key: keyOf(p), checks };
  }

  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let checks = 0;
  let allowed = 0;
  let denied = 0;
  const fail = (counted: boolean, what: string) => {
    if (!counted) return;
    errors += 1;
    if (errorSamples.length < 5) errorSamples.push(what);
  };

  /** One request; returns how many checks it answered correctly (0 when it failed). */
  async function once(counted: boolean): Promise<number> {
    if (job.kind === 'healthz') {
      const res = await send(agent, url, 'GET', '/healthz', {});
      if (res.status !== 200) fail(counted, `healthz ${res.status}`);
      return res.status === 200 ? 1 : 0;
    }
    if (job.kind === 'check') {
      const { key, check } = nextCheck();
      const path = `/api/v1/access?tenant=${encodeURIComponent(check.tenant)}&role=${encodeURIComponent(check.role)}`;
      const res = await send(agent, url, 'GET', path, { authorization: `Bearer ${key}` });
      if (res.status !== 200) {
        fail(counted, `${res.status} ${res.text.slice(0, 160)}`);
        return 0;
      }
      const answer = JSON.parse(res.text) as { allowed?: unknown };
      if (answer.allowed !== check.expected) {
        fail(counted, `${check.tenant} ${check.role}: answered ${String(answer.allowed)}, expected ${check.expected}`);
        return 0;
      }
      if (counted) {
        if (check.expected) allowed += 1;
        else denied += 1;
      }
      return 1;
    }
    const { key, checks: batch } = nextBatch();
    const body = JSON.stringify({ checks: batch.map(({ tenant, role }) => ({ tenant, role })) });
    const res = await send(agent, url, 'POST', '/api/v1/access/batch', { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body);
    if (res.status !== 200) {
      fail(counted, `${res.status} ${res.text.slice(0, 160)}`);
      return 0;
    }
    const results = (JSON.parse(res.text) as { results?: { allowed?: unknown }[] }).results;
    if (!Array.isArray(results) || results.length !== batch.length || results.some((r, n) => r.allowed !== batch[n]?.expected)) {
      fail(counted, `batch answer not {results: [{allowed}...]} in order, or wrong: ${res.text.slice(0, 160)}`);
      return 0;
    }
    if (counted) {
      for (const c of batch) {
        if (c.expected) allowed += 1;
        else denied += 1;
      }
    }
    return batch.length;
  }

  const startedAt = performance.now();
  const measureFrom = startedAt + job.warmupMs;
  const endAt = measureFrom + job.durationMs;
  let requests = 0;
  // The parent samples the server's CPU time when the measured window opens.
  const measuring = setTimeout(() => process.send?.({ measuring: true }), job.warmupMs);
  async function client(): Promise<void> {
    while (performance.now() < endAt) {
      const started = performance.now();
      const counted = started >= measureFrom;
      let answered = 0;
      try {
        answered = await once(counted);
      } catch (err) {
        fail(counted, err instanceof Error ? err.message : String(err));
        // A refused connection fails at once: do not spin.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (counted) {
        latencies.push(performance.now() - started);
        requests += 1;
        checks += answered;
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, client));
  clearTimeout(measuring);
  agent.destroy();
  return { requests, checks, measuredMs: job.durationMs, latenciesMs: Float64Array.from(latencies), errors, errorSamples, allowed, denied };
}

process.on('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send?.({ result }),
    (err: unknown) => process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
process.once('disconnect', () => process.exit(0));
