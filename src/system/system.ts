import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Redis } from 'ioredis';
import type { Transporter } from 'nodemailer';
import type { DestinationStream } from 'pino';
import { ConfigError, type Config } from '../config/config.js';
import { createDatabase, createPgPool, type Database } from '../infra/database.js';
import type { Pool } from 'pg';
import { createLogger, type Logger } from '../infra/logger.js';
import { checkPostgres, checkRedis, ServiceUnreachableError } from '../infra/preflight.js';
import { createProducerRedis, createWorkerRedis } from '../infra/redis.js';
import { temporalConnectionOptions } from '../infra/temporalConnection.js';
import { encryptingDataConverter, payloadCodecOf } from '../infra/payloadCodec.js';
import { tracingOff, type Tracing } from '../infra/tracing.js';
import { compileEmailTemplates, type EmailTemplates } from '../mail/emailTemplates.js';
import { createMailOutbox, type MailOutbox } from '../mail/mailOutbox.js';
import { createMailQueue, type MailQueue } from '../mail/mailQueue.js';
import { createSmtpTransport } from '../mail/smtpTransport.js';
import { createWebhookOutbox, type WebhookOutbox } from '../webhooks/webhookOutbox.js';
import { createWebhookQueue, type WebhookQueue } from '../webhooks/webhookQueue.js';

// The composition root: every client a process needs is built here, once,
// from validated configuration, and closed here, once, in order. The API,
// the worker, the tests and the bench all get their parts from this file.

/** One logger per process; pretty only for a person at a terminal in development. */
export function createProcessLogger(config: Config, name: string, destination?: DestinationStream): Logger {
  return createLogger({ level: config.LOG_LEVEL, pretty: config.NODE_ENV === 'development' && process.stdout.isTTY, name, ...(destination ? { destination } : {}) });
}

/** A stopped PostgreSQL or Redis is one line naming the variable, not a stack trace from a pool later. */
export async function checkServices(config: Config): Promise<void> {
  await checkPostgres(config.DATABASE_URL);
  await checkRedis(config.REDIS_URL);
}

/** Each part is closed even when an earlier one fails to (a Redis that is already gone, say); failures are logged. */
async function closeInOrder(log: Logger, steps: [string, () => unknown][]): Promise<void> {
  for (const [part, close] of steps) {
    try {
      await close();
    } catch (err) {
      log.warn({ event: 'shutdown.closeFailed', part, err }, `closing the ${part} failed`);
    }
  }
}

/** Ends a process whose start failed: one line for bad configuration or a service that is down, the stack for anything else. */
export function exitOnStartFailure(processName: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof ConfigError || err instanceof ServiceUnreachableError) {
      console.error(`error: ${err.message}`);
    } else {
      console.error(`${processName} failed:`, err);
    }
    process.exit(1);
  };
}

/** What both processes hold: the database, the queues on one Redis connection, the mail outbox. */
function openStoreParts(config: Config, log: Logger, redis: Redis) {
  const db = createDatabase(config.DATABASE_URL);
  const mailQueue = createMailQueue(redis, config.QUEUE_PREFIX, log);
  const webhookQueue = createWebhookQueue(redis, config.QUEUE_PREFIX, log);
  const mail = createMailOutbox(db, mailQueue, { recipientPerHour: config.RECIPIENT_MAIL_PER_HOUR, log });
  const closeStore: [string, () => unknown][] = [
    ['mail queue', () => mailQueue.close()],
    ['webhook queue', () => webhookQueue.close()],
  ];
  return { db, mailQueue, webhookQueue, mail, closeStore };
}

/** What every process holds. */
interface SharedParts {
  config: Config;
  log: Logger;
  db: Database;
  redis: Redis;
  mailQueue: MailQueue;
  /** The worker enqueues relationships' webhooks; the API the partner's own (paused, resumed) and the operator's queue dashboard reads it. */
  webhookQueue: WebhookQueue;
  mail: MailOutbox;
  temporal: Client;
  /** Encrypts every payload before it leaves the process (src/infra/payloadCodec.ts): the client above and the Temporal worker use it. */
  dataConverter: DataConverter;
  /** The process's tracing (src/infra/tracing.ts; tracingOff unless the caller started it): the client above is traced with it, and close() flushes it last. */
  tracing: Tracing;
}

/** What the caller of openApiParts / openWorkerParts started before them. */
interface StartedFirst {
  /** Tracing started first thing in the process (startTracing); the parts flush and stop it when they close. */
  tracing?: Tracing;
}

/** What the API process holds: it produces jobs and talks to Temporal as a client. Its Redis fails fast (a 503) instead of queueing commands while Redis is down. */
export interface ApiParts extends SharedParts {
  /** The access check's own connections (ACCESS_DATABASE_POOL_SIZE): plain pg, prepared statements, apart from Prisma's pool. */
  accessPool: Pool;
  /** Closes every part, queues before connections; call once requests in flight are done. */
  close(): Promise<void>;
}

export interface ApiPartsOptions extends StartedFirst {
  /**
   * Connect to Temporal on first use instead of at start-up, giving up on each
   * call after this long: the API then starts while Temporal is unreachable and
   * /readyz says so. Without it a start-up with Temporal down fails at once.
   */
  lazyTemporalConnectTimeoutMs?: number;
}

export async function openApiParts(config: Config, log: Logger, options: ApiPartsOptions = {}): Promise<ApiParts> {
  const redis = createProducerRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ event: 'redis.error', err: err.message }, 'redis connection problem'));
  const { closeStore, ...store } = openStoreParts(config, log, redis);
  const accessPool = createPgPool(config.DATABASE_URL, config.ACCESS_DATABASE_POOL_SIZE);
  accessPool.on('error', (err) => log.warn({ event: 'database.accessPoolError', err: err.message }, 'an idle access-check connection failed'));
  const dataConverter = encryptingDataConverter(payloadCodecOf(config));
  const tracing = options.tracing ?? tracingOff;
  const temporalOptions = await temporalConnectionOptions(config);
  const connection =
    options.lazyTemporalConnectTimeoutMs === undefined
      ? await Connection.connect(temporalOptions)
      : // No gRPC retry interceptor: its backoff timer would fire after close() and throw "Channel has been shut down".
        Connection.lazy({ ...temporalOptions, connectTimeout: options.lazyTemporalConnectTimeoutMs, interceptors: [] });
  return {
    config,
    log,
    redis,
    ...store,
    accessPool,
    temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter, interceptors: tracing.clientInterceptors }),
    dataConverter,
    tracing,
    close: () =>
      closeInOrder(log, [
        ...closeStore,
        ['temporal connection', () => connection.close()],
        ['database', () => store.db.$disconnect()],
        ['access-check database pool', () => accessPool.end()],
        ['redis', () => redis.disconnect()],
        ['tracing', () => tracing.shutdown()],
      ]),
  };
}

/** What the worker process holds: the Temporal worker's connection, the queues it feeds and drains, mail. Its Redis retries forever: BullMQ workers block on it and must outlive a Redis restart. */
export interface WorkerParts extends SharedParts {
  webhooks: WebhookOutbox;
  templates: EmailTemplates;
  transport: Transporter;
  /** The Temporal worker polls on it; the mail worker signals workflows over it too. */
  connection: NativeConnection;
  /** Closes every part; call once the workers have stopped (a refused email may still signal its workflow until then). */
  close(): Promise<void>;
}

export async function openWorkerParts(config: Config, log: Logger, options: StartedFirst = {}): Promise<WorkerParts> {
  const redis = createWorkerRedis(config.REDIS_URL);
  const { closeStore, ...store } = openStoreParts(config, log, redis);
  const templates = await compileEmailTemplates();
  const transport = createSmtpTransport(config.SMTP_URL);
  const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
  const dataConverter = encryptingDataConverter(payloadCodecOf(config));
  const tracing = options.tracing ?? tracingOff;
  return {
    config,
    log,
    redis,
    ...store,
    webhooks: createWebhookOutbox(store.db, store.webhookQueue, { attempts: config.WEBHOOK_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS }, { log }),
    templates,
    transport,
    connection,
    temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter, interceptors: tracing.clientInterceptors }),
    dataConverter,
    tracing,
    close: () =>
      closeInOrder(log, [
        ['temporal connection', () => connection.close()],
        ...closeStore,
        ['smtp transport', () => transport.close()],
        ['database', () => store.db.$disconnect()],
        ['redis', () => redis.disconnect()],
        ['tracing', () => tracing.shutdown()],
      ]),
  };
}
