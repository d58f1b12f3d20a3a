import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { projectRoot } from '../../scripts/start/paths.js';
import { waitFor } from '../support/waitFor.js';
import { TEST_PAYLOAD_KEY_ENV } from '../support/testConfig.js';
import { freePort, uniqueDomain } from './apiHarness.js';

// The real API process (src/system/apiMain.ts, as npm start and a deployment run it)
// receiving SIGTERM while a partner's request is half received: the request is
// answered in full, new connections are refused from that moment, idle
// keep-alive connections are closed, and the process exits 0 without waiting
// for its grace period to run out.

const GRACE_MS = 60_000;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends on `socket`, and whether it closed the connection. */
function record(socket: Socket) {
  const state = { text: '', closed: false };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (state.text += chunk));
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => undefined);
  return state;
}

describe('graceful API shutdown', () => {
  let port: number;
  let api: ChildProcess;
  let output = '';
  let exit: Promise<number | null>;
  const operatorToken = `operator-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    port = await freePort();
    const suffix = randomBytes(4).toString('hex');
    api = spawn(process.execPath, ['--import', 'tsx', 'src/system/apiMain.ts'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        PORT: String(port),
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        DATABASE_URL: inject('databaseUrl'),
        REDIS_URL: inject('redisUrl'),
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_TASK_QUEUE: `test-shutdown-${suffix}`,
        QUEUE_PREFIX: `pftest-shutdown-${suffix}`,
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        OPERATOR_TOKEN: operatorToken,
        SESSION_SECRET: randomBytes(32).toString('hex'),
        LINK_SECRET: randomBytes(32).toString('hex'),
        ...TEST_PAYLOAD_KEY_ENV,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    api.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exit = new Promise((resolve) => api.once('exit', (code) => resolve(code)));
    await waitFor(
      async () => {
        if (api.exitCode !== null) throw new Error(`the API exited early:\n${output}`);
        return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok;
      },
      { what: 'the API to answer /healthz', timeoutMs: 60_000, intervalMs: 200 },
    );
  });
  afterAll(() => {
    if (api.exitCode === null && api.signalCode === null) api.kill('SIGKILL');
  });

  it('answers the request in flight, refuses new connections, closes idle ones, and exits 0', async () => {
    // An idle keep-alive connection: one answered request, then nothing.
    const idleSocket = await open(port);
    const idle = record(idleSocket);
    idleSocket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await waitFor(() => idle.text.includes('"ok"'), { what: 'the idle connection’s first answer' });

    // A partner's PUT, sent slowly: headers now, body later. "Expect: 100-continue"
    // makes the server say when it has the request, so SIGTERM comes after that.
    const domain = uniqueDomain('shutdown');
    const body = JSON.stringify({ name: 'Shutdown Ltd', admins: [`admin@${domain}`] });
    const slowSocket = await open(port);
    const slow = record(slowSocket);
    slowSocket.write(
      [
        `PUT /api/v1/admin/tenants/${domain} HTTP/1.1`,
        'Host: 127.0.0.1',
        `Authorization: Bearer ${operatorToken}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Expect: 100-continue',
        '',
        '',
      ].join('\r\n'),
    );
    await waitFor(() => slow.text.startsWith('HTTP/1.1 100 Continue'), { what: '100 Continue' });
    slowSocket.write(body.slice(0, 10));

    const signalledAt = Date.now();
    api.kill('SIGTERM');
    // New connections are refused once the server stops listening.
    await waitFor(
      () =>
        open(port).then(
          (socket) => {
            socket.destroy();
            return false;
          },
          (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
        ),
      { what: 'new connections to be refused' },
    );
    await waitFor(() => idle.closed, { what: 'the idle keep-alive connection to be closed' });
    expect(slow.closed).toBe(false);

    slowSocket.write(body.slice(10));
    await waitFor(() => slow.closed, { what: 'the in-flight request to be answered and its connection closed' });
    const final = slow.text.slice(slow.text.indexOf('\r\n\r\n') + 4);
    expect(final).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    expect(final.toLowerCase()).toContain('connection: close');
    expect(final).toContain(`"domain":"${domain}"`);

    expect(await exit).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(GRACE_MS / 2);
    expect(output).toContain('"event":"api.stopped"');
    expect(output).not.toContain('api.drainTimedOut');
  });
});
