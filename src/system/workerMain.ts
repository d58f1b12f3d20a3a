import { loadConfig } from '../config/config.js';
import { startTracing } from '../infra/tracing.js';
import { checkServices, createProcessLogger, exitOnStartFailure } from './system.js';
import { createWorkerRuntime } from './workerRuntime.js';

async function main(): Promise<void> {
  // First, so the clients and workers built below are traced when OTEL_* asks for it (flushed when the runtime shuts down).
  const tracing = await startTracing('partnerflow-worker');
  const config = loadConfig();
  const log = createProcessLogger(config, 'worker');
  await checkServices(config);
  const runtime = await createWorkerRuntime(config, log, { tracing, scheduleGrantReconciler: true });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ event: 'worker.stopping', signal }, 'shutting down: finishing in-flight work');
      void runtime.shutdown();
    });
  }
  log.info({ event: 'worker.started', taskQueue: config.TEMPORAL_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS }, 'worker running');
  await runtime.run();
  await runtime.shutdown();
  log.info({ event: 'worker.stopped' }, 'worker stopped');
}

main().catch(exitOnStartFailure('worker'));
