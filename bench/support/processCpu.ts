import { readdir, readFile } from 'node:fs/promises';

// CPU time by process, read from /proc (Linux), so a side's rounds can say
// what one onboarding costs each part of the machine: this bench's own node
// process (the driver, and in-process the API and workers too), the node
// processes it started (BENCH_TOPOLOGY=processes: the API and workers), the Temporal dev
// server, PostgreSQL (every backend, and those that exited, through the
// postmaster's reaped-children time) and Redis. On two shared cores the
// throughput a side reaches is about what its CPU per onboarding allows.

export const CPU_GROUPS = ['bench process', 'api process', 'worker processes', 'temporal', 'postgres', 'redis'] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];

const GROUP_OF: Record<string, CpuGroup | 'node'> = { node: 'node', temporal: 'temporal', postgres: 'postgres', 'redis-server': 'redis' };
/** USER_HZ: /proc's clock ticks are 1/100 s on every Linux architecture Node.js runs on here. */
const TICK_MS = 10;

interface ProcStat {
  pid: number;
  ppid: number;
  group: CpuGroup | 'node';
  ms: number;
}

async function statOf(pid: string): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const close = text.lastIndexOf(')');
  const group = GROUP_OF[text.slice(text.indexOf('(') + 1, close)];
  if (!group) return undefined;
  // After "(comm) ": state, ppid, … utime stime cutime cstime are fields 14–17 of the line.
  const fields = text.slice(close + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return { pid: Number(pid), ppid: Number(fields[1]), group, ms: ticks * TICK_MS };
}

/** A node process this bench started, by its entry script (processTopology.ts starts the compiled mains). */
async function nodeChildGroup(pid: number): Promise<CpuGroup | undefined> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (cmdline.includes('apiMain')) return 'api process';
  if (cmdline.includes('workerMain')) return 'worker processes';
  return undefined;
}

/** CPU milliseconds used so far, by group; of node processes only this one and its children count. */
export async function cpuByGroup(): Promise<Map<CpuGroup, number>> {
  const sums = new Map<CpuGroup, number>();
  if (process.platform !== 'linux') return sums;
  const stats = await Promise.all((await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(statOf));
  for (const s of stats) {
    if (!s) continue;
    const group = s.group !== 'node' ? s.group : s.pid === process.pid ? 'bench process' : s.ppid === process.pid ? await nodeChildGroup(s.pid) : undefined;
    if (group) sums.set(group, (sums.get(group) ?? 0) + s.ms);
  }
  return sums;
}
