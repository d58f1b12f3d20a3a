// DEVELOPMENT TOOLING ONLY (`npm run db:new`, `db:check`, and the tests).
// Production migrates with ./migrationRunner.ts, which needs nothing of Prisma;
// nothing that runs in production may import this module.
//
// Writing a migration needs Prisma's schema engine (it diffs schema.prisma
// against a database). Prisma 7's CLI insists on downloading the native
// engine; the same engine ships as WebAssembly and talks to PostgreSQL
// through a driver adapter, so it runs here instead, through adapter-pg's
// public interface, with two adjustments made from the outside (see
// CharAsTextClient and WholeScriptAdapter below).

import { randomUUID } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  type ErrorRegistry,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
} from '@prisma/driver-adapter-utils';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type {
  DevAction,
  DiagnoseMigrationHistoryOutput,
  MigrationList,
  SchemaContainer,
  SchemaEngine,
  SchemaFilter,
} from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';
import { errorCode, messageOf, withExistingDatabase } from './databaseUrl.js';
import { type Log, MigrationError, paths } from './migrationRunner.js';

export { DatabaseUrlError, ensureDatabase } from './databaseUrl.js';
export { type Log, MigrationError, paths } from './migrationRunner.js';

const root = paths.root;
const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

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

const PG_CHAR = 18; // PostgreSQL's internal one-byte "char": pg_class.relkind, pg_constraint.contype, ...
const PG_TEXT = 25;

function reportCharFieldsAsText(result: unknown): void {
  for (const one of Array.isArray(result) ? (result as unknown[]) : [result]) {
    if (typeof one !== 'object' || one === null || !('fields' in one) || !Array.isArray(one.fields)) continue;
    for (const field of one.fields as pg.FieldDef[]) {
      if (field.dataTypeID === PG_CHAR) field.dataTypeID = PG_TEXT;
    }
  }
}

/**
 * A pg.Client whose query results report "char" (OID 18) columns as text.
 *
 * adapter-pg picks a column type for every result column by type OID and
 * throws "Unsupported column type char" for 18, which the engine's catalog
 * queries return. pg already hands those values over as strings (it has no
 * parser for 18), so calling the column text is exact. The adapter gets its
 * connections from the pg.Pool it is given, and pg-pool's documented `Client`
 * option makes them this class: nothing of the adapter is touched.
 * test/infra/migrationAdapter.test.ts says when adapter-pg reads "char" itself.
 */
export class CharAsTextClient extends pg.Client {
  // pg's query() has a dozen overloads (promise, callback, config.callback,
  // submittable); one implementation serves them, as in pg itself.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const [config, values, callback] = args as [unknown, unknown, unknown];
    const query = (super.query as unknown as LooseQuery).bind(this);
    if (hasFunction(config, 'submit')) return query(config, values, callback); // a Submittable reads its own rows
    if (typeof callback === 'function') return query(config, values, relabelFirst(callback as Callback));
    if (typeof values === 'function') return query(config, relabelFirst(values as Callback));
    if (hasFunction(config, 'callback')) return query({ ...config, callback: relabelFirst(config.callback as Callback) }, values);
    return (query(config, values) as Promise<unknown>).then((result) => {
      reportCharFieldsAsText(result);
      return result;
    });
  }
}

type LooseQuery = (config: unknown, values?: unknown, callback?: unknown) => unknown;
type Callback = (error: unknown, result: unknown) => void;

function hasFunction<K extends string>(value: unknown, key: K): value is Record<K, unknown> {
  return typeof value === 'object' && value !== null && key in value && typeof (value as Record<K, unknown>)[key] === 'function';
}

function relabelFirst(done: Callback): Callback {
  return (error, result) => {
    if (!error) reportCharFieldsAsText(result);
    done(error, result);
  };
}

/**
 * adapter-pg's executeScript splits a script at every ";" (inside strings,
 * comments and function bodies too) and runs the pieces one by one. This
 * adapter delegates every SqlDriverAdapter method to adapter-pg's, except
 * executeScript, which sends the script as one simple-protocol query (no
 * parameters), as the native engine does: PostgreSQL parses it properly and
 * runs it as one implicit transaction, so a failed migration leaves nothing
 * half-applied. executeRaw keeps adapter-pg's error mapping (DriverAdapterError).
 */
class WholeScriptAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter['provider'];
  readonly adapterName: string;
  readonly getConnectionInfo?: SqlDriverAdapter['getConnectionInfo'];
  readonly #inner: SqlDriverAdapter;
  readonly #afterDispose: () => Promise<void>;
  #disposed: Promise<void> | undefined;

  constructor(inner: SqlDriverAdapter, afterDispose: () => Promise<void> = async () => {}) {
    this.#inner = inner;
    this.#afterDispose = afterDispose;
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
    if (inner.getConnectionInfo) this.getConnectionInfo = inner.getConnectionInfo.bind(inner);
  }

  queryRaw(query: SqlQuery) {
    return this.#inner.queryRaw(query);
  }

  executeRaw(query: SqlQuery) {
    return this.#inner.executeRaw(query);
  }

  startTransaction(isolationLevel?: IsolationLevel) {
    return this.#inner.startTransaction(isolationLevel);
  }

  async executeScript(script: string): Promise<void> {
    await this.#inner.executeRaw({ sql: script, args: [], argTypes: [] });
  }

  dispose(): Promise<void> {
    this.#disposed ??= this.#inner.dispose().finally(this.#afterDispose);
    return this.#disposed;
  }
}

/**
 * The driver adapter factory the schema engine gets: adapter-pg on pg.Pools of
 * CharAsTextClients, each connection wrapped in a WholeScriptAdapter. Owns its
 * pools; dispose() closes everything it opened.
 */
export class SchemaEngineAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider: SqlMigrationAwareDriverAdapterFactory['provider'];
  readonly adapterName: string;
  readonly #connectionString: string;
  readonly #pool: pg.Pool;
  readonly #pg: PrismaPg;
  readonly #opened: SqlDriverAdapter[] = [];

  constructor(connectionString: string) {
    this.#connectionString = connectionString;
    this.#pool = SchemaEngineAdapterFactory.#newPool(connectionString);
    this.#pg = new PrismaPg(this.#pool);
    this.provider = this.#pg.provider;
    this.adapterName = this.#pg.adapterName;
  }

  static #newPool(connectionString: string): pg.Pool {
    // No idle timeout: the engine holds its migration advisory lock on a
    // pooled connection, which must not be closed underneath it.
    return new pg.Pool({ connectionString, idleTimeoutMillis: 0, connectionTimeoutMillis: 10_000, Client: CharAsTextClient });
  }

  async connect(): Promise<SqlDriverAdapter> {
    return this.#track(await this.#pg.connect());
  }

  // Not delegated: adapter-pg's connectToShadowDb makes the shadow pool from
  // its own options plus `database`, and pg lets a connectionString override
  // `database`, so its "shadow" connections reach the main database. Same
  // database name and lifetime as Prisma's: created here, dropped on dispose.
  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    await this.#pool.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    const url = new URL(this.#connectionString);
    url.pathname = `/${name}`;
    const pool = SchemaEngineAdapterFactory.#newPool(url.href);
    try {
      return this.#track(await new PrismaPg(pool).connect(), async () => {
        await pool.end();
        await this.#pool.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
      });
    } catch (error) {
      await pool.end();
      await this.#pool.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
      throw error;
    }
  }

  async dispose(): Promise<void> {
    // Adapters first: shadow databases are dropped through the main pool.
    await Promise.allSettled(this.#opened.splice(0).map((adapter) => adapter.dispose()));
    if (!this.#pool.ended) await this.#pool.end();
  }

  #track(adapter: SqlDriverAdapter, afterDispose?: () => Promise<void>): SqlDriverAdapter {
    const wrapped = new WholeScriptAdapter(adapter, afterDispose);
    this.#opened.push(wrapped);
    return wrapped;
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
  // The engine's own connection errors are vaguer; fail here the way the runner does.
  await withExistingDatabase(databaseUrl, async () => {});
  const [Engine, schema] = await Promise.all([loadSchemaEngine(), readSchema()]);
  const driver = new SchemaEngineAdapterFactory(databaseUrl);
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
    directories.sort().map(async (name) => ({
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

/**
 * The schema engine's own `migrate deploy`: applies the migrations the database
 * has not seen, in name order; `log` gets progress and engine warnings. For
 * tests and tools that want Prisma's behaviour; production uses runMigrations.
 */
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

export interface MigrationDiagnosis {
  /** What `prisma migrate status` reads: edited and failed migrations, and how the histories differ (null: in sync). */
  history: DiagnoseMigrationHistoryOutput;
  /** What `prisma migrate dev` would do: `createMigration` unless the database drifted from the migrations (`reset`). */
  devAction: DevAction;
}

/** Prisma's view of the database's migration history; the drift check replays the migrations in a shadow database. */
export async function diagnoseMigrations(databaseUrl: string): Promise<MigrationDiagnosis> {
  const migrationsList = await readMigrations();
  return withEngine(databaseUrl, undefined, async (engine) => {
    const history = await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTERS });
    const { action } = await engine.devDiagnostic({ migrationsList, filters: NO_FILTERS });
    return { history, devAction: action };
  });
}
