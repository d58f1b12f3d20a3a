import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Aborting stops the wait with the abort reason (e.g. the process died). */
  signal?: AbortSignal;
  /** Called about every `progressEveryMs` while still waiting, with elapsed ms. */
  onProgress?: (elapsedMs: number) => void;
  progressEveryMs?: number;
}

/** Polls `check` until it returns true; false on timeout; throws when aborted. */
export async function waitUntil(check: () => Promise<boolean>, options: WaitOptions): Promise<boolean> {
  const started = Date.now();
  const interval = options.intervalMs ?? 250;
  const progressEvery = options.progressEveryMs ?? 10_000;
  let nextProgress = started + progressEvery;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await check()) return true;
    options.signal?.throwIfAborted();
    const now = Date.now();
    if (now - started >= options.timeoutMs) return false;
    if (options.onProgress && now >= nextProgress) {
      options.onProgress(now - started);
      nextProgress = now + progressEvery;
    }
    try {
      await delay(interval, undefined, options.signal ? { signal: options.signal } : undefined);
    } catch {
      options.signal?.throwIfAborted();
    }
  }
}

/** An AbortSignal that fires when the given promise settles, with `reason()` as the reason. */
export function abortWhen(settles: Promise<unknown>, reason: () => Error, also?: AbortSignal): AbortSignal {
  const controller = new AbortController();
  settles.then(
    () => controller.abort(reason()),
    () => controller.abort(reason()),
  );
  return also ? AbortSignal.any([controller.signal, also]) : controller.signal;
}

/** A 2xx from `url`. Pages that serve HTML only to browsers need `accept: 'text/html'`. */
export async function httpAnswers(url: string, options: { timeoutMs?: number; accept?: string } = {}): Promise<boolean> {
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(options.timeoutMs ?? 2_000),
      redirect: 'manual',
      ...(options.accept ? { headers: { accept: options.accept } } : {}),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Opens a short-lived connection and runs `fn`; false when the server does not answer. */
async function withTemporal(address: string, fn: (connection: Connection) => Promise<boolean>): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_500 });
    const open = connection;
    return await open.withDeadline(Date.now() + 2_000, () => fn(open));
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** The frontend answers and the namespace exists (start-dev registers it while booting). */
export function temporalAnswers(address: string, namespace: string): Promise<boolean> {
  return withTemporal(address, async (connection) => {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  });
}

/** The frontend answers at all; used to tell "a Temporal server holds this port" from "something else does". */
export function isTemporalServer(address: string): Promise<boolean> {
  return withTemporal(address, async (connection) => {
    await connection.workflowService.getSystemInfo({});
    return true;
  });
}

function timestampMs(ts: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined): number {
  if (!ts) return 0;
  return Number(ts.seconds?.toString() ?? 0) * 1_000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/**
 * A worker polls the task queue. The server remembers pollers for minutes after
 * they stop, so only a poll made after `sinceMs` counts: that is the new worker,
 * not the one from the previous run.
 */
export function workerPolling(address: string, namespace: string, taskQueue: string, sinceMs: number): Promise<boolean> {
  return withTemporal(address, async (connection) => {
    const response = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue } });
    return response.pollers.some((poller) => timestampMs(poller.lastAccessTime) >= sinceMs);
  });
}
