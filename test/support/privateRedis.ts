import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './freePort.js';
import { useSuiteResource } from './suiteResource.js';
import { waitFor } from './waitFor.js';

const run = promisify(execFile);

/**
 * A Redis of this test file's own (another port, its own data directory, AOF on),
 * which it may stop and start at will: never the shared one other files use.
 */
export async function startPrivateRedis() {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pf-redis-'));
  const ping = async () => (await run('redis-cli', ['-p', String(port), 'ping']).catch(() => ({ stdout: '' }))).stdout.trim() === 'PONG';
  async function start() {
    await run('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--dir', dir, '--daemonize', 'yes', '--save', '']);
    await waitFor(async () => (await ping()) || undefined, { what: `the private Redis on ${port} to answer` });
  }
  async function stop() {
    // Saved to the AOF as it goes; a shutdown keeps what it holds, as a restarted Redis would.
    await run('redis-cli', ['-p', String(port), 'shutdown']).catch(() => undefined);
    await waitFor(async () => !(await ping()) || undefined, { what: `the private Redis on ${port} to stop` });
  }
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;

export const usePrivateRedis = (): PrivateRedis => useSuiteResource('a private Redis', startPrivateRedis, (redis) => redis.close());
