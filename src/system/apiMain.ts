import { createServer } from 'node:http';
import { loadConfig } from '../config/config.js';
import { drainable } from '../http/gracefulShutdown.js';
import { startTracing } from '../infra/tracing.js';
import { createMetricsRegistry } from '../operator/healthRoutes.js';
import { buildApp } from './httpApp.js';
import { checkServices, createProcessLogger, exitOnStartFailure, openApiParts } from './system.js';

async function main(): Promise<void> {
  // First, so every client built below is traced when OTEL_* asks for it (parts.close() flushes it last).
  const tracing = await startTracing('partnerflow-api');
  const config = loadConfig();
  const log = createProcessLogger(config, 'api');
  await checkServices(config);
  const parts = await openApiParts(config, log, { tracing });
  const app = buildApp({ ...parts, registry: createMetricsRegistry() });

  const server = createServer(app).listen(config.PORT, () => {
    log.info({ event: 'api.started', url: config.PUBLIC_BASE_URL, port: config.PORT }, `API listening on :${config.PORT}`);
  });
  const drainer = drainable(server);

  // Requests in flight finish first (they may still need the queues, Temporal and the database).
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    // `npm run api` relays one Ctrl-C as a second signal; the drain is already bounded.
    if (stopping) return;
    stopping = true;
    log.info({ event: 'api.stopping', signal, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down: finishing requests in flight');
    const { cut, inFlight } = await drainer.drain(config.SHUTDOWN_GRACE_MS);
    if (cut) log.warn({ event: 'api.drainTimedOut', graceMs: config.SHUTDOWN_GRACE_MS }, 'requests still running at the end of SHUTDOWN_GRACE_MS were cut');
    await parts.close();
    log.info({ event: 'api.stopped', inFlightAtSignal: inFlight }, 'API stopped');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // Exit explicitly once everything is closed: a leftover timer in some client must not keep a stopped API alive.
      stop(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ event: 'api.stopFailed', err }, 'API did not stop cleanly');
          process.exit(1);
        },
      );
    });
  }
}

main().catch(exitOnStartFailure('api'));
