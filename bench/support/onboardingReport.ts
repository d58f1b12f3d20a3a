import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HistoryProfile } from './historyProfile.js';
import type { KneeResult } from './openLoop.js';
import { rateOf, type Tally } from './onboardingRounds.js';
import { cpuPerOnboarding, type TargetRow } from './onboardingTargets.js';
import { CPU_GROUPS } from './processCpu.js';
import { percentile } from './stats.js';
import { barChartSvg, lineChartSvg } from './svgChart.js';

// The onboarding bench's results: the console lines, and the same as a
// markdown table with three SVG charts in bench/results/ (git-ignored; the one
// run the README shows is committed with `git add -f`).

export interface MemoryRow {
  label: string;
  /** Full onboardings done when sampled. */
  onboarded: number;
  /** Process name → heap after GC and RSS, MB. */
  processes: { name: string; heapUsedMb: number; rssMb: number }[];
}

export interface RunReport {
  title: string;
  machine: string;
  settings: string;
  tallies: Tally[];
  targets: TargetRow[];
  profiles: { side: string; profile: HistoryProfile }[];
  smtpPerOnboarding: number;
  openLoop?: KneeResult;
  memory: MemoryRow[];
  problems: string[];
  notes: string[];
}

const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const p = (values: number[] | undefined, q: number) => percentile(values ?? [], q);

export function sideRows(tallies: Tally[]): string[] {
  return [
    '| side | concurrency | done | onboardings/s (rounds min..max) | accept→active p50 / p95 (ms) | legs p50 (ms) | event loop p99 / max (ms) | errors |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
    ...tallies.map(
      (t) =>
        `| ${t.side} | ${t.concurrency} | ${t.done} | ${f(rateOf(t), 2)} (${f(Math.min(...t.roundRates), 1)}..${f(Math.max(...t.roundRates), 1)}) | ` +
        `${f(p(t.latencies, 50))} / ${f(p(t.latencies, 95))} | ${[...t.legs].map(([leg, ms]) => `${leg} ${f(p(ms, 50))}`).join(' · ')} | ` +
        `${f(t.loopP99Ms, 1)} / ${f(t.loopMaxMs, 1)} | ${t.errors.length} |`,
    ),
  ];
}

export function targetTable(rows: TargetRow[]): string[] {
  return [
    '| target | measured | against | ratio | limit | result | bound (where missed) |',
    '| --- | ---: | --- | ---: | ---: | --- | --- |',
    ...rows.map((r) => `| ${r.target} | ${r.measured} | ${r.reference} | ${f(r.ratio, 2)} | ${r.limit} | ${r.pass ? 'PASS' : 'MISS'} | ${r.pass ? '' : r.bound} |`),
  ];
}

/** CPU per onboarding by process, each side: on shared cores, what a side's throughput can be. */
export function cpuRows(tallies: Tally[]): string[] {
  const shape = tallies.find((t) => t.side === 'minimal shape' && t.concurrency !== 1);
  const shapeTotal = shape ? cpuPerOnboarding(shape).total : Number.NaN;
  return [
    `| side | concurrency | ${CPU_GROUPS.join(' | ')} | all | ÷ shape |`,
    `| --- | ---: | ${CPU_GROUPS.map(() => '---:').join(' | ')} | ---: | ---: |`,
    ...tallies.map((t) => {
      const { total } = cpuPerOnboarding(t);
      return `| ${t.side} | ${t.concurrency} | ${CPU_GROUPS.map((g) => f((t.cpuMs.get(g) ?? 0) / t.done, 1)).join(' | ')} | ${f(total, 1)} | ${f(total / shapeTotal, 2)} |`;
    }),
  ];
}

/** Per full onboarding: where the time goes, leg by leg (client-side legs, then what the processes did). */
export function profileRows(full: Tally, profile: HistoryProfile | undefined, smtpPerOnboarding: number): string[] {
  const per = (n: number) => n / full.done;
  const rows = [
    '| leg | per onboarding | p50 (ms) | p95 (ms) | time per onboarding (ms) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...[...full.legs].map(([leg, ms]) => `| client: ${leg} | 1 | ${f(p(ms, 50))} | ${f(p(ms, 95))} | ${f(ms.reduce((a, b) => a + b, 0) / ms.length)} |`),
    `| SQL statements (all processes) | ${f(per(full.sql), 1)} | ${f(full.sqlTime.percentile(50), 2)} | ${f(full.sqlTime.percentile(95), 2)} | ${f(per(full.sqlTime.sumMs))} |`,
    `| Redis commands (all processes) | ${f(per(full.redis), 1)} | ${f(full.redisTime.percentile(50), 2)} | ${f(full.redisTime.percentile(95), 2)} | ${f(per(full.redisTime.sumMs))} |`,
    `| SMTP messages received | ${f(smtpPerOnboarding, 1)} | | | (in "→ email received") |`,
    `| client: GET relationship, polling every poll interval until active (in the SQL/Redis counts) | ${f(per(full.reads), 1)} | | | (in "→ API shows active") |`,
  ];
  if (profile) {
    rows.push(
      `| workflow tasks: queue wait | ${f(profile.workflowTasksPer, 1)} | ${f(profile.taskQueueP50Ms)} | | ${f(profile.workflowTasksPer * profile.taskQueueP50Ms)} (p50 × count) |`,
      `| workflow tasks: on the worker | ${f(profile.workflowTasksPer, 1)} | ${f(profile.taskRunP50Ms)} | | ${f(profile.workflowTasksPer * profile.taskRunP50Ms)} (p50 × count) |`,
      `| accept Update, accepted → completed in the workflow | 1 | ${f(profile.updateInWorkflowP50Ms)} | | |`,
      `| accept → workflow sets active (history) | ${f(profile.tasksToActiveP50)} tasks | ${f(profile.acceptToActiveInWorkflowP50Ms)} | | |`,
      ...profile.activities.map(
        (a) => `| activity ${a.type} (queue p50 ${f(a.queueP50Ms)} ms) | ${f(a.perWorkflow, 1)} | ${f(a.runP50Ms)} | ${f(a.runP95Ms)} | ${f(a.perWorkflow * (a.runP50Ms + a.queueP50Ms))} (p50 × count) |`,
      ),
    );
  }
  return rows;
}

/** Every statement (by its first characters) and Redis command, per onboarding: where a cut would go. */
export function callRows(full: Tally): string[] {
  const per = (n: number) => f(n / full.done, 2);
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return [
    '| per onboarding | SQL statement, or Redis command |',
    '| ---: | --- |',
    ...sorted(full.statements).map(([text, n]) => `| ${per(n)} | \`${text.replace(/\|/g, '\\|').replace(/`/g, "'")}\` |`),
    ...sorted(full.commands).map(([name, n]) => `| ${per(n)} | Redis ${name} |`),
  ];
}

export function openLoopRows(result: KneeResult): string[] {
  const steps = [...result.steps, ...(result.half ? [result.half] : [])];
  return [
    '| arrivals/s | arrived | shed | completed | completed/s in window | offer→active p50 / p95 (ms) | accept→active p50 / p95 (ms) | errors |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...steps.map(
      (s) =>
        `| ${f(s.rate, 1)}${s === result.half ? ' (half the knee)' : ''} | ${s.arrived} | ${s.shed} | ${s.completed} | ${f(s.completionRate, 2)} | ` +
        `${f(s.totalP50Ms)} / ${f(s.totalP95Ms)} | ${f(s.acceptToActiveP50Ms)} / ${f(s.acceptToActiveP95Ms)} | ${s.errors.length} |`,
    ),
    '',
    result.knee ? `Knee: ${result.knee.rate}/s (${result.knee.why}); at half of it (${result.knee.rate / 2}/s) offer→active p50 ${f(result.half?.totalP50Ms ?? Number.NaN)} ms, p95 ${f(result.half?.totalP95Ms ?? Number.NaN)} ms.` : 'No knee within the rates tried.',
  ];
}

export function memoryRows(memory: MemoryRow[]): string[] {
  const names = memory[0]?.processes.map((x) => x.name) ?? [];
  return [
    `| sample | full onboarded | ${names.map((n) => `${n} heap / RSS (MB)`).join(' | ')} |`,
    `| --- | ---: | ${names.map(() => '---:').join(' | ')} |`,
    ...memory.map((m) => `| ${m.label} | ${m.onboarded} | ${m.processes.map((x) => `${f(x.heapUsedMb, 1)} / ${f(x.rssMb, 0)}`).join(' | ')} |`),
  ];
}

/** Least-squares slope of y against x. */
function slope(points: (readonly [number, number])[]): number {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  return sxx === 0 ? Number.NaN : points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0) / sxx;
}

/** Heap after GC against full onboardings, in KB per onboarding: summed over the processes, and each. */
export function heapSlopeKb(memory: MemoryRow[]): { kb: number; laterKb: number; onboardings: number; perProcess: { name: string; kb: number }[] } | undefined {
  if (memory.length < 2) return undefined;
  const names = memory[0]?.processes.map((x) => x.name) ?? [];
  const heapOf = (rows: MemoryRow[]) => slope(rows.map((m) => [m.onboarded, m.processes.reduce((sum, x) => sum + x.heapUsedMb, 0) * 1024] as const));
  const kb = heapOf(memory);
  if (!Number.isFinite(kb)) return undefined;
  // A worker's sticky cache holds every open workflow until it is full (the SDK's default is about
  // 2,300 on a 4 GB heap), so the heap grows with the first thousands whatever happens after. The
  // samples from the second half of the run on tell a leak from a cache filling.
  const last = memory.at(-1)?.onboarded ?? 0;
  const later = memory.filter((m) => m.onboarded >= last / 2);
  return {
    kb,
    laterKb: later.length >= 3 ? heapOf(later) : Number.NaN,
    onboardings: (memory.at(-1)?.onboarded ?? 0) - (memory[0]?.onboarded ?? 0),
    perProcess: names.map((name) => ({ name, kb: slope(memory.map((m) => [m.onboarded, (m.processes.find((x) => x.name === name)?.heapUsedMb ?? 0) * 1024] as const)) })),
  };
}

export function markdown(r: RunReport): string {
  const full = r.tallies.find((t) => t.side === 'full system' && t.concurrency !== 1) ?? r.tallies[0];
  const fullProfile = r.profiles.find((x) => x.side === 'full system')?.profile;
  const lines = [
    `# ${r.title}`,
    '',
    `Machine: ${r.machine}`,
    '',
    `Settings: ${r.settings}`,
    '',
    '## Targets (issue 13)',
    '',
    ...targetTable(r.targets),
    '',
    '## Sides',
    '',
    ...sideRows(r.tallies),
    '',
    '## CPU per onboarding by process (ms; the bench process is the driver, and in-process the API and workers too)',
    '',
    ...cpuRows(r.tallies),
    '',
    '## Where a full onboarding spends its time (concurrency of the main rounds)',
    '',
    ...(full ? profileRows(full, fullProfile, r.smtpPerOnboarding) : []),
    '',
  ];
  for (const { side, profile } of r.profiles.filter((x) => x.side !== 'full system')) {
    lines.push(`${side} (history): ${f(profile.workflowTasksPer, 1)} workflow tasks (queue p50 ${f(profile.taskQueueP50Ms)} ms, run p50 ${f(profile.taskRunP50Ms)} ms), activities ${profile.activities.map((a) => `${a.type} ×${f(a.perWorkflow, 1)} run p50 ${f(a.runP50Ms)} ms`).join(', ')}`, '');
  }
  if (full) lines.push('## SQL statements and Redis commands per full onboarding (polling included)', '', ...callRows(full), '');
  if (r.openLoop) lines.push('## Open loop (full system)', '', ...openLoopRows(r.openLoop), '');
  lines.push('## Memory after GC', '', ...memoryRows(r.memory), '');
  if (r.problems.length > 0) lines.push('## Errors and warnings', '', ...r.problems.map((x) => `- ${x.replace(/\|/g, '\\|')}`), '');
  lines.push(...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

export async function writeResults(dir: string, stamp: string, r: RunReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `onboarding-${stamp}`);
  const caption = `${r.machine.slice(0, 90)} · ${stamp}`;
  const written = [`${base}.md`];
  await writeFile(`${base}.md`, markdown(r));
  const c10 = r.tallies.filter((t) => t.concurrency !== 1);
  const c1 = r.tallies.filter((t) => t.concurrency === 1);
  const sides = [...new Set(r.tallies.map((t) => t.side))];
  const concurrencies = [...new Set(r.tallies.map((t) => t.concurrency))].sort((a, b) => b - a);
  await writeFile(
    `${base}-throughput.svg`,
    barChartSvg(
      'Onboardings per second, per side',
      'onboardings/s (higher is better)',
      concurrencies.map((c) => `concurrency ${c}`),
      sides.map((side) => ({
        label: side,
        values: concurrencies.map((c) => {
          const t = r.tallies.find((x) => x.side === side && x.concurrency === c);
          return t ? rateOf(t) : Number.NaN;
        }),
      })),
      caption,
    ),
  );
  written.push(`${base}-throughput.svg`);
  const full = c10.find((t) => t.side === 'full system');
  const full1 = c1.find((t) => t.side === 'full system');
  if (full) {
    const profile = r.profiles.find((x) => x.side === 'full system')?.profile;
    const groups = [...full.legs].map(([leg, ms]) => ({ label: `client: ${leg}`, values: [p(ms, 50), p(ms, 95), p(full1?.legs.get(leg), 50)] }));
    groups.push({ label: 'SQL summed per onboarding', values: [full.sqlTime.sumMs / full.done, Number.NaN, full1 ? full1.sqlTime.sumMs / full1.done : Number.NaN] });
    groups.push({ label: 'Redis summed per onboarding', values: [full.redisTime.sumMs / full.done, Number.NaN, full1 ? full1.redisTime.sumMs / full1.done : Number.NaN] });
    for (const a of profile?.activities ?? []) groups.push({ label: `activity ${a.type} ×${f(a.perWorkflow, 1)}`, values: [a.runP50Ms, a.runP95Ms, Number.NaN] });
    await writeFile(`${base}-legs.svg`, barChartSvg('Full system: latency per leg', 'ms (lower is better)', [`p50, concurrency ${full.concurrency}`, `p95, concurrency ${full.concurrency}`, 'p50, concurrency 1'], groups, caption));
    written.push(`${base}-legs.svg`);
  }
  if (r.openLoop) {
    const steps = [...r.openLoop.steps, ...(r.openLoop.half ? [r.openLoop.half] : [])];
    await writeFile(
      `${base}-arrivals.svg`,
      lineChartSvg(
        'Full system: latency against arrival rate (open loop)',
        'arrivals per second',
        'ms',
        [
          { name: 'offer→active p50', points: steps.map((s) => [s.rate, s.totalP50Ms]) },
          { name: 'offer→active p95', points: steps.map((s) => [s.rate, s.totalP95Ms]) },
          { name: 'accept→active p50', points: steps.map((s) => [s.rate, s.acceptToActiveP50Ms]) },
        ],
        caption,
      ),
    );
    written.push(`${base}-arrivals.svg`);
  }
  return written;
}
