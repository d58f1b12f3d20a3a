import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config/config.js';
import { createDatabase } from '../infra/database.js';
import { createLogger } from '../infra/logger.js';
import { checkPostgres, checkRedis, ServiceUnreachableError } from '../infra/preflight.js';
import { createMailQueue } from '../infra/queues.js';
import { createProducerRedis } from '../infra/redis.js';
import { temporalConnectionOptions } from '../infra/temporalConnection.js';
import { createMailOutbox } from '../mail/mailOutbox.js';
import { buildApp } from './httpApp.js';
import { drainable } from '../http/gracefulShutdown.js';
import { createMetricsRegistry } from '../operator/healthRoutes.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, pretty: config.NODE_ENV === 'development' && process.stdout.isTTY, name: 'api' });
  await checkPostgres(config.DATABASE_URL);
  await checkRedis(config.REDIS_URL);

  const db = createDatabase(config.DATABASE_URL);
  const redis = createProducerRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ event: 'redis.error', err: err.message }, 'redis connection problem'));
  const mailQueue = createMailQueue(redis, config.QUEUE_PREFIX, log);
  const connection = await Connection.connect(await temporalConnectionOptions(config));
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const app = buildApp({ config, db, redis, temporal, mail: createMailOutbox(db, mailQueue), log, registry: createMetricsRegistry() });

  const server = app.listen(config.PORT, () => {
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
    await mailQueue.close();
    await connection.close();
    await db.$disconnect();
    redis.disconnect();
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

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof ServiceUnreachableError) {
    console.error(`error: ${err.message}`);
  } else {
    console.error('api failed:', err);
  }
  process.exit(1);
});
