import { isMainThread } from 'node:worker_threads';

// Loaded into the compiled API and worker processes of the multi-process bench
// (node --expose-gc --import <this, transpiled> dist/…): wraps pg and ioredis
// before the entry point opens them, so each process counts its own SQL
// statements and Redis commands, and answers the bench over the IPC channel it
// was spawned with. The entry point itself is the compiled one, unchanged.
// Worker threads (Temporal's workflow threads) inherit the --import; they make
// no SQL or Redis calls, so the probe does nothing there.

export type ProbeRequest = { type: 'snapshot'; gc: boolean };

if (isMainThread && process.send) {
  const { countCalls } = await import('./callCounter.js');
  const calls = countCalls();
  process.on('message', (message: ProbeRequest) => {
    if (message.type !== 'snapshot') return;
    if (message.gc && globalThis.gc) {
      globalThis.gc();
      globalThis.gc();
    }
    const { heapUsed, rss } = process.memoryUsage();
    process.send?.({ type: 'snapshot', calls: calls.snapshot(), heapUsedMb: heapUsed / 2 ** 20, rssMb: rss / 2 ** 20 });
  });
}
