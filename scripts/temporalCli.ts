import { spawn } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './start/paths.js';

// Later tags add a `replace` directive to go.mod, which `go install pkg@version`
// refuses; v1.5.1 is the newest tag that builds this way (see PLATFORM.md).
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
export const localTemporalCliPath = path.join(projectRoot, '.tools', 'bin', 'temporal');

const HEARTBEAT_MS = 20_000;

export type Log = (line: string) => void;

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function findOnPath(command: string, envPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function formatElapsed(ms: number): string {
  const total = Math.round(ms / 1_000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes > 0 ? `${minutes}m${String(seconds).padStart(2, '0')}s` : `${seconds}s`;
}

/**
 * Absolute path of a `temporal` binary: $TEMPORAL_CLI, else one on PATH, else
 * the project's own build in .tools/bin, building it there with Go if needed.
 */
export async function findOrBuildTemporalCli(log: Log): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    const resolved = path.resolve(fromEnv);
    if (!(await isExecutableFile(resolved))) {
      throw new Error(`TEMPORAL_CLI=${fromEnv}: no executable file there; unset it to use or build the project's own CLI`);
    }
    return resolved;
  }
  const onPath = await findOnPath('temporal');
  if (onPath) return onPath;
  if (await isExecutableFile(localTemporalCliPath)) return localTemporalCliPath;
  return buildTemporalCli(log);
}

// A build killed by Ctrl-C never reaches its cleanup; a day-old build
// directory cannot belong to a build still running.
async function removeStaleBuildDirs(binDir: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1_000;
  for (const entry of await fs.readdir(binDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith('.build-')) continue;
    const dir = path.join(binDir, entry.name);
    const stat = await fs.stat(dir).catch(() => undefined);
    if (stat && stat.mtimeMs < dayAgo) await fs.rm(dir, { recursive: true, force: true });
  }
}

async function buildTemporalCli(log: Log): Promise<string> {
  const go = await findOnPath('go');
  if (!go) {
    throw new Error(
      'no temporal CLI found and `go` is not installed to build one: install Go 1.25+ (https://go.dev/dl), put `temporal` on PATH, or set TEMPORAL_CLI',
    );
  }
  const binDir = path.dirname(localTemporalCliPath);
  await fs.mkdir(binDir, { recursive: true });
  await removeStaleBuildDirs(binDir);
  // Build into a private directory and rename at the end: an interrupted or
  // concurrent build then never leaves a half-written binary at the final path.
  const buildDir = await fs.mkdtemp(path.join(binDir, '.build-'));

  log(`building the Temporal CLI (${TEMPORAL_CLI_MODULE}) into ${binDir}`);
  log('the first build downloads and compiles the whole server: it takes minutes (9 to 13 measured on a 2-core machine); later runs reuse the binary');

  const started = Date.now();
  const heartbeat = setInterval(() => {
    log(`still building the Temporal CLI… ${formatElapsed(Date.now() - started)} elapsed`);
  }, HEARTBEAT_MS);

  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      // -v prints each package as it compiles, which is the only progress go offers.
      const child = spawn(go, ['install', '-v', TEMPORAL_CLI_MODULE], {
        cwd: projectRoot,
        env: { ...process.env, GOBIN: buildDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => log(`go: ${line}`));
      }
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    if (exit.code !== 0) {
      throw new Error(
        `go install ${TEMPORAL_CLI_MODULE} failed (${exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`}); see the go: lines above`,
      );
    }
    await fs.rename(path.join(buildDir, 'temporal'), localTemporalCliPath);
    log(`built ${localTemporalCliPath} in ${formatElapsed(Date.now() - started)}`);
    return localTemporalCliPath;
  } finally {
    clearInterval(heartbeat);
    await fs.rm(buildDir, { recursive: true, force: true });
  }
}

// `tsx scripts/temporalCli.ts`: CI builds the CLI ahead of the tests. The path
// goes to stdout alone so callers can capture it; progress goes to stderr.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  findOrBuildTemporalCli((line) => process.stderr.write(`temporal-cli: ${line}\n`)).then(
    (cli) => process.stdout.write(`${cli}\n`),
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
