import { spawn } from 'node:child_process';
import { projectRoot } from '../../src/config/projectRoot.js';
import type { Config } from '../../src/config/config.js';
import { freePort } from './freePort.js';
import { TEST_PAYLOAD_KEY_ENV } from './testConfig.js';
import { waitFor } from './waitFor.js';

// One more API process beside a test system's in-process one: the same
// database, Redis, Temporal task queue, queue prefix and secrets, so the two
// serve one deployment. For tests of what must hold across processes (no
// state kept in one process may decide an answer).

export interface ApiProcess {
  url: string;
  /** What the process wrote, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `src/system/apiMain.ts` (through tsx) as a deployment's second API with `config`'s services and secrets. */
export async function startApiProcess(config: Config, env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/system/apiMain.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      PUBLIC_BASE_URL: url,
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      OPERATOR_TOKEN: config.OPERATOR_TOKEN,
      SESSION_SECRET: config.SESSION_SECRET,
      LINK_SECRET: config.LINK_SECRET,
      ALLOW_SHORT_DURATIONS: String(config.ALLOW_SHORT_DURATIONS),
      ...TEST_PAYLOAD_KEY_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the second API exited early:\n${output}`);
        return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok;
      },
      { what: 'the second API to answer /healthz', timeoutMs: 60_000, intervalMs: 200 },
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { url, output: () => output, stop };
}
