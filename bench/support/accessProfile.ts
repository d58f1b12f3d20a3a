import { readFile } from 'node:fs/promises';
import type { Profiler } from 'node:inspector';
import path from 'node:path';
import { projectRoot } from '../../src/config/projectRoot.js';

// Reads a .cpuprofile written by `node --cpu-prof` (the API process) and lists
// where its CPU went by self time: the busiest functions, and the same grouped
// by package (or our file). Idle time is left out of the total.

function ownerOf(url: string): string {
  if (!url) return '(native/V8)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules?.[1]) return inModules[1];
  if (url.startsWith('node:')) return url;
  return path.relative(projectRoot, url.replace(/^file:\/\//, ''));
}

export async function summarizeCpuProfile(file: string, top = 10): Promise<{ functions: string[]; owners: string[]; busyMs: number }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profiler.Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => selfByNode.set(id, (selfByNode.get(id) ?? 0) + (deltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfByNode) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    const owner = ownerOf(frame.url);
    const where = frame.url ? `${owner}${frame.url.includes('node_modules') || frame.url.startsWith('node:') ? `/${path.basename(frame.url)}` : ''}:${frame.lineNumber + 1}` : owner;
    const name = `${frame.functionName || '(anonymous)'}  ${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros);
    total += micros;
  }
  const lines = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, micros]) => `${((100 * micros) / total).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${what}`);
  return { functions: lines(byFunction), owners: lines(byOwner), busyMs: total / 1000 };
}
