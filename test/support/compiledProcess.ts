import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/config/projectRoot.js';
import { waitFor } from './waitFor.js';

// The build as production runs it, for tests that start the compiled worker or
// API as child processes (test/build/compiledServices.test.ts, test/tracing.test.ts):
// `npm run build` when dist/ is older than its sources, then plain `node` on an entry point.

export const dist = path.join(projectRoot, 'dist');
export const workerEntry = path.join(dist, 'src', 'system', 'workerMain.js');
export const apiEntry = path.join(dist, 'src', 'system', 'apiMain.js');

/** Newest modification time under `entry` (a file or a directory tree), 0 when it does not exist. */
async function newestMtime(entry: string): Promise<number> {
  const info = await stat(entry).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const times = await Promise.all((await readdir(entry)).map((name) => newestMtime(path.join(entry, name))));
  return Math.max(info.mtimeMs, ...times);
}

const mtime = (file: string) => (existsSync(file) ? statSync(file).mtimeMs : 0);

/**
 * Builds unless dist/ is newer than everything it is made from (CI has just
 * built it; a developer may have changed a source since). Incremental, so a
 * rebuild after a small change takes seconds.
 */
export async function ensureBuilt(): Promise<void> {
  const inputs = ['src', 'scripts', 'emails/emailSamples.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
  const newestInput = Math.max(...(await Promise.all(inputs.map((input) => newestMtime(path.join(projectRoot, input))))));
  const built = Math.min(...['.tsbuildinfo', 'workflow-bundle.js', 'workflow-bundle-traced.js'].map((file) => mtime(path.join(dist, file))));
  if (built > newestInput && existsSync(workerEntry) && existsSync(apiEntry)) return;
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot, encoding: 'utf8', timeout: 150_000 });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}\n${result.stderr}`);
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A compiled entry point run by plain node, its output kept line by line. */
export function startCompiled(name: string, entry: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [entry], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => lines.push(line));
  }
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const output = () => `--- ${name} output ---\n${lines.slice(-40).join('\n')}`;
  const hasEvent = (event: string) => lines.some((line) => line.includes(`"event":"${event}"`));
  return {
    name,
    child,
    lines,
    exited,
    output,
    hasEvent,
    get exit() {
      return exit;
    },
    /** Waits for `check`, failing at once (with the output) if the process exits first. */
    async until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
      const died = exited.then((e) => {
        throw new Error(`${name} exited (code ${e.code}, signal ${e.signal}) before ${what}\n${output()}`);
      });
      try {
        return await Promise.race([waitFor(check, { what: `${name}: ${what}`, timeoutMs, intervalMs: 100 }), died]);
      } catch (error) {
        if (error instanceof Error && !error.message.includes('--- ')) error.message += `\n${output()}`;
        throw error;
      } finally {
        died.catch(() => undefined);
      }
    },
  };
}

export type Compiled = ReturnType<typeof startCompiled>;
