import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { projectRoot } from '../src/config/projectRoot.js';
import { accessChartSvg, accessMarkdown, p99Ratio, rowLabel, tenantsLabel, throughputRatio, type ComparisonRow, type SideFigures } from './support/accessChart.js';
import type { LoadJob, LoadKind, LoadResult } from './support/accessLoad.js';
import { summarizeCpuProfile } from './support/accessProfile.js';
import { grantedRolesOf, seedPartners, seedTenants, tableSizes, tenantDomainOf } from './support/accessSeed.js';
import { apiEntry, cpuMsOf, startApi, startFloor, startLoadGenerator, type LoadGenerator } from './support/accessServers.js';
import { startBenchEnvironment } from './support/benchEnvironment.js';
import { runBench, type Cleanup } from './support/cleanup.js';

// The partner access check (GET /api/v1/access?tenant=…&role=…) through the
// project's compiled API against the floor: a bare node:http + pg server doing
// the same work per request (bench/support/accessFloor.ts). Both run as
// processes of their own beside a load generator process, over one throw-away
// database seeded with N tenants (2N grants) for each N asked for. Rounds
// alternate (floor, project, project, floor, ...) so drift in machine load
// falls on both sides. Writes an SVG chart and a markdown table to bench/results/.
// Run: npm run bench:access  (builds first; BENCH_TENANTS=1000 for the small set only).

const settings = z
  .object({
    /** Comma-separated tenant counts, each seeded and measured in turn. */
    BENCH_TENANTS: z
      .string()
      .default('1000,1000000')
      .transform((v) => v.split(',').map((n) => Number(n.trim().replace(/_/g, ''))))
      .pipe(z.array(z.number().int().positive()).min(1)),
    BENCH_PARTNERS: z.coerce.number().int().min(2).default(300),
    BENCH_CONCURRENCY: z.coerce.number().int().positive().default(32),
    BENCH_WARMUP_S: z.coerce.number().min(0).default(3),
    BENCH_DURATION_S: z.coerce.number().positive().default(10),
    /** Measured rounds per side and N. */
    BENCH_ROUNDS: z.coerce.number().int().positive().default(2),
    BENCH_MISS_RATE: z.coerce.number().min(0).max(1).default(0.2),
    BENCH_BATCH_SIZE: z.coerce.number().int().positive().default(50),
    /** The floor's pg pool: the API's is pg's default of 10 (@prisma/adapter-pg sets none). */
    BENCH_FLOOR_POOL: z.coerce.number().int().positive().default(10),
    /** ACCESS_CHECKS_PER_PARTNER for the API: the shipped default, which this load never spends (its leases are still taken). */
    BENCH_CHECKS_PER_PARTNER: z.coerce.number().int().positive().default(60_000),
    /** A directory: one more project round on the last N, against an API run with --cpu-prof; top functions by self time. */
    BENCH_CPU_PROFILE: z.string().optional(),
    BENCH_RESULTS_DIR: z.string().default(path.join(projectRoot, 'bench', 'results')),
    BENCH_DATABASE_URL: z.string().default(process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'),
    BENCH_REDIS_URL: z.string().default(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'),
  })
  .parse(process.env);

const out = (line = '') => console.log(line);
const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Nearest-rank percentile of an ascending-sorted array. */
function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? Number.NaN;
}

type Measured = LoadResult & { deltas: Record<string, number> };

/** The rounds of one side, merged: checks over measured time, percentiles over every measured request. */
function figures(results: Measured[]): SideFigures & { errorSamples: string[]; allowed: number; denied: number } {
  const all = new Float64Array(results.reduce((n, r) => n + r.latenciesMs.length, 0));
  let at = 0;
  for (const r of results) {
    all.set(r.latenciesMs, at);
    at += r.latenciesMs.length;
  }
  all.sort();
  const checks = results.reduce((n, r) => n + r.checks, 0);
  const ms = results.reduce((n, r) => n + r.measuredMs, 0);
  const cpuMs = results.reduce((n, r) => n + (r.deltas.cpuMs ?? Number.NaN), 0);
  return {
    checksPerSecond: checks / (ms / 1000),
    serverCpuMsPerCheck: cpuMs / checks,
    serverCores: cpuMs / ms,
    p50Ms: percentileOf(all, 50),
    p99Ms: percentileOf(all, 99),
    errors: results.reduce((n, r) => n + r.errors, 0),
    roundRates: results.map((r) => r.checks / (r.measuredMs / 1000)),
    errorSamples: results.flatMap((r) => r.errorSamples).slice(0, 5),
    allowed: results.reduce((n, r) => n + r.allowed, 0),
    denied: results.reduce((n, r) => n + r.denied, 0),
  };
}

/** One request to POST /api/v1/access/batch: anything but 404/405 means the project has it. */
async function batchAvailable(baseUrl: string, key: string): Promise<{ available: boolean; status: number }> {
  const res = await fetch(`${baseUrl}/api/v1/access/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ checks: [{ tenant: tenantDomainOf(0), role: grantedRolesOf(0)[0] }] }),
  });
  await res.arrayBuffer();
  return { available: res.status !== 404 && res.status !== 405, status: res.status };
}

async function main(cleanup: Cleanup): Promise<void> {
  const s = settings;
  if (!existsSync(apiEntry)) throw new Error(`${path.relative(projectRoot, apiEntry)} is missing: run npm run build (npm run bench:access does)`);
  const loadAtStart = loadAverage();
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  out('Access check benchmark: GET /api/v1/access through the compiled API vs a bare node:http + pg floor.');
  out(`machine: ${machine}; load average at start ${loadAtStart} (1 / 5 / 15 min)`);
  out(
    `settings: tenants ${s.BENCH_TENANTS.map(tenantsLabel).join(', ')}; ${s.BENCH_PARTNERS} partners; ${s.BENCH_CONCURRENCY} concurrent keep-alive clients; ` +
      `${s.BENCH_ROUNDS} rounds per side of ${s.BENCH_WARMUP_S} s warm-up + ${s.BENCH_DURATION_S} s measured, alternating; ` +
      `${Math.round(s.BENCH_MISS_RATE * 100)} % of checks answer allowed:false; floor pool ${s.BENCH_FLOOR_POOL}`,
  );
  out('processes: this one (orchestration), the load generator, the floor server, the API (node dist/src/system/apiMain.js), PostgreSQL, Redis, a Temporal dev server (the API connects at start).');
  out(
    'floor per check: Bearer key → sha256 → ONE prepared query (key joined to the grant) → JSON. ' +
      'project per check: node:http fast path ahead of Express (src/accessApi/accessEndpoint.ts), zod validation of the query or body, ' +
      'sha256, ONE prepared query (key joined to the grant, its relationship’s status and end, the partner’s pause), the check budget ' +
      '(leased from Redis in blocks: a Redis round trip every few hundred checks), JSON.',
  );

  const env = await startBenchEnvironment(cleanup, { baseDatabaseUrl: s.BENCH_DATABASE_URL, redisUrl: s.BENCH_REDIS_URL }, (line) => out(`  ${line}`));
  const db = new pg.Client({ connectionString: env.databaseUrl });
  await db.connect();
  cleanup.defer('close the seeding connection', () => db.end());
  const keys = await seedPartners(db, s.BENCH_PARTNERS);

  const floor = await startFloor(cleanup, env.databaseUrl, s.BENCH_FLOOR_POOL);
  const api = await startApi(cleanup, env, { checksPerPartner: s.BENCH_CHECKS_PER_PARTNER, name: 'api' });
  const load = startLoadGenerator(cleanup);
  out(`floor ${floor.baseUrl} (pid ${floor.pid}); project API ${api.baseUrl} (pid ${api.pid})`);

  // Seeded with nothing but partners yet: the answer is a 200 or a 404 either way.
  const batch = await batchAvailable(api.baseUrl, keys[0] ?? '');
  out(batch.available ? `batch: POST /api/v1/access/batch answered ${batch.status}: measured with ${s.BENCH_BATCH_SIZE} checks per request` : 'batch: not available');
  // The server process's CPU time over the measured window. (Statements per check are not counted:
  // pg_stat_database is flushed by busy backends only every second or so, and by idle ones 10 s later.)
  const probe = (pid: number) => () => Promise.resolve({ cpuMs: cpuMsOf(pid) });
  const kinds: ('single' | 'batch')[] = batch.available ? ['single', 'batch'] : ['single'];

  const job = (baseUrl: string, kind: LoadKind, tenants: number, seed: number): LoadJob => ({
    baseUrl,
    kind,
    warmupMs: s.BENCH_WARMUP_S * 1000,
    durationMs: s.BENCH_DURATION_S * 1000,
    concurrency: s.BENCH_CONCURRENCY,
    keys,
    tenants,
    missRate: s.BENCH_MISS_RATE,
    batchSize: s.BENCH_BATCH_SIZE,
    seed,
  });

  const rows: ComparisonRow[] = [];
  const summary: string[] = [];
  const healthLines: string[] = [];
  const errorLines: string[] = [];
  const cpuLines: string[] = [];
  for (const tenants of [...s.BENCH_TENANTS].sort((a, b) => a - b)) {
    out();
    out(`N = ${tenants.toLocaleString('en-US')} tenants (${(2 * tenants).toLocaleString('en-US')} grants)`);
    const seeded = await seedTenants(db, tenants, s.BENCH_PARTNERS);
    out(
      `  seeding: relationships ${seconds(seeded.relationshipsMs)}, role_grants ${seconds(seeded.grantsMs)}, VACUUM ANALYZE ${seconds(seeded.analyzeMs)}; ` +
        `total ${seconds(seeded.relationshipsMs + seeded.grantsMs + seeded.analyzeMs)}; ${await tableSizes(db)}`,
    );
    for (const kind of kinds) {
      const loadKind: LoadKind = kind === 'single' ? 'check' : 'batch';
      const sides = { floor: [] as Measured[], project: [] as Measured[] };
      for (let round = 0; round < s.BENCH_ROUNDS; round += 1) {
        const order = round % 2 === 0 ? (['floor', 'project'] as const) : (['project', 'floor'] as const);
        for (const side of order) {
          const server = side === 'floor' ? floor : api;
          const result = await load.run(job(server.baseUrl, loadKind, tenants, 1000 * round + tenants), probe(server.pid));
          sides[side].push(result);
          out(
            `  round ${round + 1} ${kind} ${side.padEnd(7)} ${fmt(result.checks / (result.measuredMs / 1000), 0).padStart(7)} checks/s  ` +
              `(${result.requests} requests, ${result.errors} errors; server CPU ${fmt((result.deltas.cpuMs ?? Number.NaN) / result.checks, 3)} ms/check, ` +
              `${fmt((result.deltas.cpuMs ?? Number.NaN) / result.measuredMs, 2)} cores; load ${loadAverage()})`,
          );
        }
      }
      const f = figures(sides.floor);
      const p = figures(sides.project);
      const row: ComparisonRow = { tenants, kind, floor: f, project: p };
      rows.push(row);
      const line =
        `${rowLabel(row).padEnd(16)} floor ${fmt(f.checksPerSecond, 0).padStart(6)} checks/s p50 ${fmt(f.p50Ms, 2)} ms p99 ${fmt(f.p99Ms, 2)} ms | ` +
        `project ${fmt(p.checksPerSecond, 0).padStart(6)} checks/s p50 ${fmt(p.p50Ms, 2)} ms p99 ${fmt(p.p99Ms, 2)} ms | ` +
        `throughput ratio ${fmt(throughputRatio(row), 2)} | p99 ratio ${fmt(p99Ratio(row), 2)} | errors ${f.errors}/${p.errors} | ` +
        `rounds floor ${f.roundRates.map((r) => fmt(r, 0)).join(', ')} project ${p.roundRates.map((r) => fmt(r, 0)).join(', ')}`;
      summary.push(line);
      out(`  ${line}`);
      out(`  answers checked: floor ${f.allowed} allowed / ${f.denied} denied, project ${p.allowed} allowed / ${p.denied} denied`);
      const cpuLine =
        `${rowLabel(row).padEnd(16)} server process CPU per check: floor ${fmt(f.serverCpuMsPerCheck, 3)} ms (${fmt(f.serverCores, 2)} cores busy), ` +
        `project ${fmt(p.serverCpuMsPerCheck, 3)} ms (${fmt(p.serverCores, 2)} cores busy): ${fmt(p.serverCpuMsPerCheck / f.serverCpuMsPerCheck, 1)}× the floor's`;
      cpuLines.push(cpuLine);
      out(`  ${cpuLine}`);
      for (const [side, fig] of [['floor', f], ['project', p]] as const) for (const e of fig.errorSamples) errorLines.push(`${rowLabel(row)} ${side}: ${e}`);
    }
    if (healthLines.length === 0) {
      // Independent of N: the HTTP stack alone, once.
      for (const [side, server] of [['project', api], ['floor', floor]] as const) {
        const h = figures([await load.run(job(server.baseUrl, 'healthz', tenants, 1), probe(server.pid))]);
        healthLines.push(
          `GET /healthz ${side.padEnd(7)} ${fmt(h.checksPerSecond, 0).padStart(6)} requests/s p50 ${fmt(h.p50Ms, 2)} ms p99 ${fmt(h.p99Ms, 2)} ms errors ${h.errors}, ` +
            `server CPU ${fmt(h.serverCpuMsPerCheck, 3)} ms/request` +
            (side === 'project' ? ' (through Express: helmet, metrics middleware, no I/O)' : ' (bare node:http, no I/O: about the load generator’s ceiling here)'),
        );
        out(`  ${healthLines.at(-1)}`);
      }
    }
  }

  const profileLines = await profileRound(cleanup, env, load, job, s.BENCH_TENANTS);

  const loadAtEnd = loadAverage();
  out();
  out('RESULTS (one run on a shared machine; read as indicative)');
  out(`machine: ${machine}; load average at start ${loadAtStart}, at end ${loadAtEnd}`);
  for (const line of summary) out(line);
  for (const line of cpuLines) out(line);
  if (!batch.available) out('batch: not available');
  for (const line of healthLines) out(line);
  for (const line of errorLines) out(`  error sample: ${line}`);
  for (const line of profileLines) out(line);
  const logged = [...api.logLines()].sort((a, b) => b[1] - a[1]);
  out(`API log lines over the run (LOG_LEVEL=info): ${logged.map(([event, n]) => `${event} ×${n}`).join(', ') || 'none'}`);

  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  await mkdir(s.BENCH_RESULTS_DIR, { recursive: true });
  const base = path.join(s.BENCH_RESULTS_DIR, `access-${stamp}`);
  const caption = `${os.cpus().length} cores, load ${loadAtStart} → ${loadAtEnd}; ${s.BENCH_CONCURRENCY} clients, ${s.BENCH_ROUNDS}×${s.BENCH_DURATION_S} s per side`;
  await writeFile(`${base}.svg`, accessChartSvg(rows, caption));
  await writeFile(
    `${base}.md`,
    `# Access check: floor vs project (${stamp})\n\n![chart](${path.basename(base)}.svg)\n\n` +
      accessMarkdown(rows, [
        `machine: ${machine}; load average at start ${loadAtStart}, at end ${loadAtEnd}`,
        `${s.BENCH_CONCURRENCY} concurrent keep-alive clients in one load-generator process; ${s.BENCH_ROUNDS} rounds per side of ${s.BENCH_WARMUP_S} s warm-up + ${s.BENCH_DURATION_S} s measured, alternating`,
        `${s.BENCH_PARTNERS} partners with one key each; ${Math.round(s.BENCH_MISS_RATE * 100)} % of checks answer allowed:false; every answer checked`,
        'floor: node:http + pg Pool(10), one prepared query per check; project: node dist/src/system/apiMain.js, its node:http fast path: ' +
          'one prepared statement per request (key, grant, relationship status and end, partner pause) and the check budget (leased from Redis in blocks: on, never refusing)',
        batch.available ? `batch: ${s.BENCH_BATCH_SIZE} checks per request` : `batch: not available (POST /api/v1/access/batch answered ${batch.status})`,
        ...cpuLines,
        ...healthLines,
      ]),
  );
  out(`chart: ${path.relative(projectRoot, base)}.svg, table: ${path.relative(projectRoot, base)}.md`);
}

/** With BENCH_CPU_PROFILE: a second API under --cpu-prof, one project round on the last N (not in the figures), its busiest functions. */
async function profileRound(
  cleanup: Cleanup,
  env: Awaited<ReturnType<typeof startBenchEnvironment>>,
  load: LoadGenerator,
  job: (baseUrl: string, kind: LoadKind, tenants: number, seed: number) => LoadJob,
  tenantCounts: number[],
): Promise<string[]> {
  const dir = settings.BENCH_CPU_PROFILE;
  if (!dir) return [];
  const tenants = Math.max(...tenantCounts);
  await mkdir(dir, { recursive: true });
  const profiled = await startApi(cleanup, env, { checksPerPartner: settings.BENCH_CHECKS_PER_PARTNER, name: 'api-profiled', cpuProfileDir: path.resolve(dir) });
  const result = await load.run(job(profiled.baseUrl, 'check', tenants, 7), () => Promise.resolve({ cpuMs: cpuMsOf(profiled.pid) }));
  await profiled.stop();
  const file = path.join(path.resolve(dir), 'api-profiled.cpuprofile');
  const { functions, owners, busyMs } = await summarizeCpuProfile(file);
  return [
    '',
    `API CPU profile (${file}): start-up + one ${settings.BENCH_WARMUP_S + settings.BENCH_DURATION_S} s round of single checks at N=${tenantsLabel(tenants)} ` +
      `(${fmt(result.checks / (result.measuredMs / 1000), 0)} checks/s under the profiler), ${fmt(busyMs / 1000)} s busy; top 10 by self time:`,
    ...functions.map((l) => `  ${l}`),
    'the same by package / file:',
    ...owners.map((l) => `  ${l}`),
  ];
}

await runBench(main);
