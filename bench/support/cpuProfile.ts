import { writeFile } from 'node:fs/promises';
import { Session, type Profiler } from 'node:inspector/promises';
import path from 'node:path';

/**
 * Samples this process's main thread (where the API, the activities and the
 * BullMQ workers run) while `run` goes, writes a .cpuprofile for Chrome
 * DevTools, and returns the busiest packages/files by self time.
 */
export async function profileCpu<T>(file: string, run: () => Promise<T>): Promise<{ result: T; summary: string[] }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const result = await run();
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    return { result, summary: summarize(profile, 10) };
  } finally {
    session.disconnect();
  }
}

function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName ? `(${functionName})` : '(native)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules?.[1]) return inModules[1];
  if (url.startsWith('node:')) return url;
  return path.relative(process.cwd(), url.replace(/^file:\/\//, ''));
}

function summarize(profile: Profiler.Profile, top: number): string[] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentUrl = new Map<number, string>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentUrl.set(child, node.callFrame.url);
  const bySample = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => bySample.set(id, (bySample.get(id) ?? 0) + (deltas[i] ?? 0)));
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of bySample) {
    // Stopping the profiler (serializing the profile) is sampled too; it is not the system's work.
    if (parentUrl.get(id) === 'node:inspector') continue;
    const frame = nodes.get(id)?.callFrame;
    const owner = frame ? ownerOf(frame.url, frame.functionName) : '(unknown)';
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros);
    total += micros;
  }
  return [...byOwner]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([owner, micros]) => `${((100 * micros) / total).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${owner}`);
}
