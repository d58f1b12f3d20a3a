import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  type ErrorRegistry,
  type SqlDriverAdapter,
} from '@prisma/driver-adapter-utils';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationList, SchemaContainer, SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';

// Prisma 7's CLI insists on downloading a native schema engine before it
// migrates anything. The same engine ships as WebAssembly and talks to
// PostgreSQL through a driver adapter, so migrations run here instead, writing
// Prisma's own `_prisma_migrations` table: `prisma migrate deploy` agrees with
// whatever this module applied.

export type Log = (line: string) => void;

/** A DATABASE_URL that is malformed or names a server we cannot log in to. */
export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/** The schema engine refused or failed; the message is the engine's, minus its Rust span trace. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

// Where prisma.config.ts says they are; resolved from this file so the tools
// work from any working directory.
const root = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
export const paths = {
  root,
  schema: path.join(root, 'prisma', 'schema.prisma'),
  migrations: path.join(root, 'prisma', 'migrations'),
};

const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

// ---------------------------------------------------------------------------
// Database URL and connectivity

interface Target {
  database: string;
  /** host:port, for messages: never echo the URL, it may carry a password. */
  server: string;
}

function parseDatabaseUrl(databaseUrl: string): Target {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new DatabaseUrlError('must be a URL like postgresql://user@host:5432/db');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new DatabaseUrlError(`must be a postgresql:// URL (got ${url.protocol}//)`);
  }
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!database) throw new DatabaseUrlError('names no database (postgresql://user@host:5432/<database>)');
  const host = url.searchParams.get('host') ?? url.hostname;
  return { database, server: `${host || 'localhost'}:${url.port || '5432'}` };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

async function withClient<T>(connectionString: string, target: Target, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    // Swallow the follow-up 'error' event a half-open socket may emit.
    client.on('error', () => {});
    const code = errorCode(error);
    const reason = messageOf(error);
    if (code === '3D000') throw error; // database does not exist: callers decide
    if (code !== undefined && /^E[A-Z]+$/.test(code)) {
      throw new DatabaseUrlError(`cannot reach PostgreSQL at ${target.server} (${code})`, { cause: error });
    }
    if (/timeout/i.test(reason)) {
      throw new DatabaseUrlError(`cannot reach PostgreSQL at ${target.server} (no answer in 10 s)`, { cause: error });
    }
    throw new DatabaseUrlError(`cannot connect to PostgreSQL at ${target.server}: ${reason}`, { cause: error });
  }
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates the database named in the URL unless it exists. Connects to the
 * database itself first, so a role that may not open `postgres` still works
 * once the database is there. Returns whether it created the database.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = parseDatabaseUrl(databaseUrl);
  try {
    await withClient(databaseUrl, target, async () => {});
    return false;
  } catch (error) {
    if (errorCode(error) !== '3D000') throw error;
  }
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  return withClient(maintenance.href, target, async (client) => {
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(target.database)}`);
      return true;
    } catch (error) {
      if (errorCode(error) === '42P04') return false; // created meanwhile by a concurrent deploy
      const reason = messageOf(error);
      throw new DatabaseUrlError(`cannot create database "${target.database}" on ${target.server}: ${reason}`, { cause: error });
    }
  });
}

// ---------------------------------------------------------------------------
// The engine and its driver adapter

// Lib ES2022 and @types/node 20 do not declare WebAssembly; this is the part
// used here, with the export the engine's schema_engine_bg.wasm.d.ts declares.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, object>,
  ): Promise<{ instance: { exports: { __wbindgen_start: () => void } } }>;
};

// The engine arms timers (a 10 s limit on taking the migration lock, for one)
// and never cancels them: it imports setTimeout but no clearTimeout. Each would
// keep the process alive for seconds after the work is done, so they are
// tracked and cleared once no engine is running.
const engineTimers = new Set<NodeJS.Timeout>();
let enginesRunning = 0;

function trackedSetTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(() => {
    engineTimers.delete(timer);
    callback();
  }, ms);
  engineTimers.add(timer);
  return timer;
}

let engineClass: Promise<typeof SchemaEngine> | undefined;

// The package's entry point imports the .wasm file as an ES module, which
// Node cannot do; instantiate it by hand the way that entry point would.
function loadSchemaEngine(): Promise<typeof SchemaEngine> {
  engineClass ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
    const imports: Record<string, unknown> = { ...engineBindings };
    for (const name of Object.keys(imports).filter((key) => key.startsWith('__wbg_setTimeout_'))) {
      imports[name] = trackedSetTimeout;
    }
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': imports });
    engineBindings.__wbg_set_wasm(instance.exports);
    instance.exports.__wbindgen_start();
    return engineBindings.SchemaEngine;
  })();
  return engineClass;
}

const PG_CHAR = 18; // Postgres' internal one-byte "char", used by pg_class.relkind and friends
const PG_TEXT = 25;

// adapter-pg maps result columns by type OID and throws on "char", which the
// engine's catalog queries return. pg hands those values over as strings
// already, so calling the column text is exact. performIO is private to
// adapter-pg, hence the unknown-typed reach.
function readCharColumnsAsText(queryable: object): void {
  const performIO: unknown = Reflect.get(queryable, 'performIO');
  if (typeof performIO !== 'function') {
    throw new Error('@prisma/adapter-pg no longer has performIO; revisit readCharColumnsAsText in src/infra/migrations.ts');
  }
  Reflect.set(queryable, 'performIO', async (...args: unknown[]): Promise<unknown> => {
    const result: unknown = await Reflect.apply(performIO, queryable, args);
    const fields: unknown = typeof result === 'object' && result !== null ? Reflect.get(result, 'fields') : undefined;
    for (const field of Array.isArray(fields) ? (fields as unknown[]) : []) {
      if (typeof field === 'object' && field !== null && Reflect.get(field, 'dataTypeID') === PG_CHAR) {
        Reflect.set(field, 'dataTypeID', PG_TEXT);
      }
    }
    return result;
  });
}

function adaptForSchemaEngine<A extends SqlDriverAdapter>(adapter: A): A {
  readCharColumnsAsText(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => {
    const transaction = await startTransaction(isolationLevel);
    readCharColumnsAsText(transaction);
    return transaction;
  };
  // adapter-pg's executeScript splits the script at every ";" (inside strings,
  // comments and function bodies too) and runs the pieces one by one. One
  // simple-protocol query (no parameters) is what the native engine sends:
  // Postgres parses it properly and runs it as a single implicit transaction,
  // so a failed migration leaves nothing half-applied.
  adapter.executeScript = async (script) => {
    await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  return adapter;
}

class SchemaEnginePg extends PrismaPg {
  readonly #opened: SqlDriverAdapter[] = [];

  constructor(connectionString: string) {
    // No idle timeout: the engine holds its migration advisory lock on a
    // pooled connection, which must not be closed underneath it.
    super({ connectionString, idleTimeoutMillis: 0, connectionTimeoutMillis: 10_000 });
  }

  override async connect() {
    return this.#track(await super.connect());
  }

  override async connectToShadowDb() {
    return this.#track(await super.connectToShadowDb());
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.#opened.splice(0).map((adapter) => adapter.dispose()));
  }

  #track<A extends SqlDriverAdapter>(adapter: A): A {
    this.#opened.push(adapter);
    return adaptForSchemaEngine(adapter);
  }
}

function engineLogHandler(log: Log | undefined): (line: unknown) => void {
  return (line) => {
    if (!log || typeof line !== 'string') return;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null) return;
    const level: unknown = Reflect.get(event, 'level');
    const fields: unknown = Reflect.get(event, 'fields');
    const message: unknown = typeof fields === 'object' && fields !== null ? Reflect.get(fields, 'message') : undefined;
    if (typeof message !== 'string') return;
    // Progress and problems; the rest (start-up banner, timings) is noise.
    if (level === 'WARN' || level === 'ERROR') log(`${String(level).toLowerCase()}: ${message}`);
    else if (message.startsWith('Applying ')) log(message);
  };
}

function describeEngineError(error: unknown, registry: ErrorRegistry): string {
  let message = messageOf(error);
  // An adapter error that is not a DriverAdapterError reaches the engine as
  // "External error id#N"; the original sits in the adapter's registry.
  message = message.replace(/External error id#(\d+)/, (whole, id: string) => {
    const record = registry.consumeError(Number(id));
    return record ? messageOf(record.error) : whole;
  });
  const migration = /migration_name="([^"]+)"/.exec(message)?.[1];
  const lines: string[] = [];
  for (const line of message.split('\n')) {
    if (/^\s*\d+: /.test(line)) break; // the span trace starts
    if (line.trim() && line.trim() !== 'external connector error') lines.push(line.trim());
  }
  const code = errorCode(error);
  return [migration ? `migration ${migration}:` : '', lines.join(' '), code ? `[${code}]` : '']
    .filter(Boolean)
    .join(' ');
}

async function readSchema(): Promise<SchemaContainer[]> {
  return [{ path: path.relative(root, paths.schema), content: await readFile(paths.schema, 'utf8') }];
}

async function withEngine<T>(databaseUrl: string, log: Log | undefined, run: (engine: SchemaEngine, schema: SchemaContainer[]) => Promise<T>): Promise<T> {
  const target = parseDatabaseUrl(databaseUrl);
  // The engine's own connection errors are vaguer; fail here the same way ensureDatabase does.
  try {
    await withClient(databaseUrl, target, async () => {});
  } catch (error) {
    if (errorCode(error) !== '3D000') throw error;
    throw new DatabaseUrlError(`database "${target.database}" does not exist on ${target.server}`, { cause: error });
  }
  const [Engine, schema] = await Promise.all([loadSchemaEngine(), readSchema()]);
  const driver = new SchemaEnginePg(databaseUrl);
  const adapterFactory = bindMigrationAwareSqlAdapterFactory(driver);
  let engine: SchemaEngine | undefined;
  enginesRunning += 1;
  try {
    engine = await Engine.new({ datamodels: schema.map((file) => [file.path, file.content]) }, engineLogHandler(log), adapterFactory);
    return await run(engine, schema);
  } catch (error) {
    throw new MigrationError(describeEngineError(error, adapterFactory.errorRegistry), { cause: error });
  } finally {
    engine?.free();
    enginesRunning -= 1;
    if (enginesRunning === 0) {
      for (const timer of engineTimers) clearTimeout(timer);
      engineTimers.clear();
    }
    await driver.dispose();
  }
}

// ---------------------------------------------------------------------------
// Migrations

// Mirrors how the Prisma CLI loads the directory, so checksums and names match.
async function readMigrations(): Promise<MigrationList> {
  const lockfilePath = 'migration_lock.toml';
  const lockfile = await readFile(path.join(paths.migrations, lockfilePath), 'utf8').catch(() => null);
  const entries = await readdir(paths.migrations, { withFileTypes: true }).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  });
  const directories = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const migrationDirectories = await Promise.all(
    directories.sort((a, b) => a.localeCompare(b)).map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: await readFile(path.join(paths.migrations, name, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (error: unknown) => ({ tag: 'error' as const, value: messageOf(error) }),
        ),
      },
    })),
  );
  return {
    baseDir: paths.migrations,
    lockfile: { path: lockfilePath, content: lockfile },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/** Applies the migrations the database has not seen, in name order; `log` gets progress and engine warnings. */
export async function applyMigrations(databaseUrl: string, log?: Log): Promise<{ applied: string[] }> {
  const migrationsList = await readMigrations();
  return withEngine(databaseUrl, log, async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
    return { applied: appliedMigrationNames };
  });
}

/** The SQL that would take the database to prisma/schema.prisma; empty when they agree. */
export async function diffSchemaAgainstDatabase(databaseUrl: string): Promise<string> {
  return withEngine(databaseUrl, undefined, async (engine, schema) => {
    const { exitCode, stdout } = await engine.diff({
      from: { tag: 'schemaDatasource', files: schema, configDir: root },
      to: { tag: 'schemaDatamodel', files: schema },
      script: true,
      exitCode: true, // 2 when there is a difference: an empty diff still prints a comment
      filters: NO_FILTERS,
    });
    return exitCode === 2 ? (stdout ?? '') : '';
  });
}
