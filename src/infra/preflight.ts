import pg from 'pg';
import { Redis } from 'ioredis';

// Checks run before anything starts, so a stopped service is reported as one
// line saying which variable points where and how to start it, instead of a
// stack trace from deep inside a pool a minute later.

export class ServiceUnreachableError extends Error {
  constructor(
    readonly variable: string,
    /** host:port, never with credentials. */
    readonly address: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceUnreachableError';
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);

interface Target {
  host: string;
  port: number;
  address: string;
  local: boolean;
  /** Removed from any message, in case a driver echoes it. */
  secrets: string[];
}

function targetOf(url: string, defaultPort: number): Target {
  const parsed = new URL(url);
  const host = parsed.hostname;
  const port = parsed.port ? Number(parsed.port) : defaultPort;
  const secrets = [parsed.password, decodeURIComponent(parsed.password)].filter((s) => s.length > 0);
  return { host, port, address: `${host || 'localhost'}:${port}`, local: LOOPBACK.has(host), secrets };
}

function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((acc, secret) => acc.split(secret).join('***'), text).replace(/\s+/g, ' ').trim();
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  // Node tries every address of a name like "localhost" and reports them together.
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  return undefined;
}

function reasonOf(error: unknown, timeoutMs: number): string {
  const code = errorCode(error);
  if (code) return code;
  const message = error instanceof Error ? error.message : String(error);
  return /timeout|timed out/i.test(message) ? `no answer within ${timeoutMs} ms` : message;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

export const POSTGRES_START_HINT = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

export async function checkPostgres(databaseUrl: string, timeoutMs = 3_000): Promise<void> {
  const target = targetOf(databaseUrl, 5432);
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
  // A failed connect may still emit 'error' later; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const code = errorCode(error);
    // The server answered and only the database is missing; migrations create it.
    if (code === '3D000') return;
    const reason = scrub(reasonOf(error, timeoutMs), target.secrets);
    const reached = code !== undefined && !CONNECTION_CODES.has(code);
    const message = reached
      ? `DATABASE_URL: PostgreSQL at ${target.address} refused the connection: ${scrub(error instanceof Error ? error.message : String(error), target.secrets)} (${code})`
      : `DATABASE_URL: cannot reach PostgreSQL at ${target.address} (${reason}). ${
          target.local ? `Start it: ${POSTGRES_START_HINT}` : 'Check that it is running and reachable from here.'
        }`;
    throw new ServiceUnreachableError('DATABASE_URL', target.address, message);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function checkRedis(redisUrl: string, timeoutMs = 3_000): Promise<void> {
  const target = targetOf(redisUrl, 6379);
  let lastError: unknown;
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // connect() rejects with a generic "Connection is closed."; the cause arrives as an 'error' event.
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Error(`no answer within ${timeoutMs} ms`);
  // connectTimeout covers only the TCP handshake; a port that accepts and never
  // speaks (a stuck server, a different service) would otherwise hang here.
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timedOut), timeoutMs);
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
  } catch (error) {
    const cause = error === timedOut ? error : (lastError ?? error);
    const detail = scrub(errorCode(cause) ?? (cause instanceof Error ? cause.message : String(cause)), target.secrets);
    // NOAUTH / WRONGPASS and the like: Redis is up, the URL's credentials are not.
    const reached = /NOAUTH|WRONGPASS|ERR /.test(detail);
    const text = reached
      ? `REDIS_URL: Redis at ${target.address} refused the connection: ${detail}`
      : `REDIS_URL: cannot reach Redis at ${target.address} (${detail}). ${
          target.local
            ? `Start it: redis-server --daemonize yes --port ${target.port}`
            : 'Check that it is running and reachable from here.'
        }`;
    throw new ServiceUnreachableError('REDIS_URL', target.address, text);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
