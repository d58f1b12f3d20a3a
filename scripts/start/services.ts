import { existsSync } from 'node:fs';
import path from 'node:path';
import { taggedSink } from './output.js';
import { childExecArgv, entryFile, projectRoot } from './paths.js';
import { describeExit, spawnManaged, type ManagedProcess } from './processes.js';
import { abortWhen, httpAnswers, isPortOpen, waitUntil } from './readiness.js';

export const MAIL_SMTP_PORT = 1025;
export const MAIL_WEB_PORT = 1080;
export const MAIL_HOST = '127.0.0.1';

const maildevBin = path.join(projectRoot, 'node_modules', 'maildev', 'dist', 'bin', 'maildev.js');

function diedBeforeReady(proc: ManagedProcess, what: string): () => Error {
  return () => new Error(`${what} ${proc.exit ? describeExit(proc.exit) : 'exited'} before it was ready (see its output above)`);
}

/** maildev: SMTP on 1025, the inbox on 1080, both on loopback only. */
export async function startMailCatcher(options: {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onSpawn: (proc: ManagedProcess) => void;
}): Promise<{ proc: ManagedProcess; smtpUrl: string; inboxUrl: string }> {
  if (!existsSync(maildevBin)) {
    throw new Error(`maildev is not installed (${path.relative(projectRoot, maildevBin)} missing): run npm install, or set SMTP_URL to another SMTP server`);
  }
  for (const port of [MAIL_SMTP_PORT, MAIL_WEB_PORT]) {
    if (await isPortOpen(MAIL_HOST, port)) {
      throw new Error(
        `port ${port} is already in use (another maildev?): stop it, or set SMTP_URL to use that SMTP server instead of starting one`,
      );
    }
  }
  const proc = spawnManaged({
    name: 'mail',
    command: process.execPath,
    args: [maildevBin, '--smtp', String(MAIL_SMTP_PORT), '--ip', MAIL_HOST, '--web', String(MAIL_WEB_PORT), '--web-ip', MAIL_HOST],
    cwd: projectRoot,
    env: options.env,
    onLine: taggedSink('mail', 'yellow'),
    graceMs: 5_000,
  });
  options.onSpawn(proc);
  const inboxUrl = `http://localhost:${MAIL_WEB_PORT}`;
  const ready = await waitUntil(
    async () => (await isPortOpen(MAIL_HOST, MAIL_SMTP_PORT)) && (await httpAnswers(`http://${MAIL_HOST}:${MAIL_WEB_PORT}/`, { accept: 'text/html' })),
    { timeoutMs: 30_000, signal: abortWhen(proc.exited, diedBeforeReady(proc, 'the mail catcher'), options.signal) },
  );
  if (!ready) throw new Error(`the mail catcher did not open ports ${MAIL_SMTP_PORT}/${MAIL_WEB_PORT} within 30s`);
  return { proc, smtpUrl: `smtp://${MAIL_HOST}:${MAIL_SMTP_PORT}`, inboxUrl };
}

/** The migrations (`db migrate`, what `npm run db:migrate` runs), to completion; throws when they fail. */
export async function runMigrations(options: {
  env: NodeJS.ProcessEnv;
  onSpawn: (proc: ManagedProcess) => void;
}): Promise<void> {
  const proc = spawnManaged({
    name: 'migrate',
    command: process.execPath,
    args: [...childExecArgv(), entryFile('scripts/db'), 'migrate'],
    cwd: projectRoot,
    env: options.env,
    onLine: taggedSink('migrate', 'blue'),
    graceMs: 10_000,
  });
  options.onSpawn(proc);
  const exit = await proc.exited;
  if (exit.code !== 0) {
    throw new Error(`migrations failed: \`db migrate\` ${describeExit(exit)} (see the migrate lines above)`);
  }
}

/**
 * An entry point of this project (`file`, from entryFile): compiled under
 * `npm start`, through the launcher's TypeScript loader under `npm run dev:start`.
 */
export function spawnApp(options: {
  name: 'worker' | 'api';
  file: string;
  env: NodeJS.ProcessEnv;
  graceMs: number;
}): ManagedProcess {
  // node itself rather than npm or a loader's CLI: one process, so the pid seen
  // here is the app's own and signals reach it directly.
  return spawnManaged({
    name: options.name,
    command: process.execPath,
    args: [...childExecArgv(), options.file],
    cwd: projectRoot,
    env: options.env,
    onLine: taggedSink(options.name, options.name === 'api' ? 'green' : 'cyan'),
    graceMs: options.graceMs,
  });
}
