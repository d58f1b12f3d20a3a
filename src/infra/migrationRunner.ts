import { createHash, randomUUID } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { errorCode, messageOf, withExistingDatabase } from './databaseUrl.js';
import { projectRoot } from '../config/projectRoot.js';

export { DatabaseUrlError, ensureDatabase } from './databaseUrl.js';

// Production migrations: the SQL files in prisma/migrations, applied in name
// order by plain `pg`, recorded in Prisma's own `_prisma_migrations` table
// exactly as `prisma migrate deploy` records them (same table, same columns,
// same checksums, same advisory lock). No Prisma code runs here, so a new
// Prisma or adapter release cannot change how production migrates, and
// Prisma's tools (the schema engine `npm run db:new` / `db:check` use in
// development, or `prisma migrate status`) agree with what this applied.

export type Log = (line: string) => void;

/** A migration failed, or the migrations table disagrees with the migrations directory. */
export class MigrationError extends Error {
  override name = 'MigrationError';
  /** The migration concerned, when there is one. */
  readonly migration: string | undefined;
  /** PostgreSQL's SQLSTATE, when PostgreSQL refused a migration's SQL. */
  readonly code: string | undefined;

  constructor(message: string, options: { migration?: string; code?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.migration = options.migration;
    this.code = options.code;
  }
}

// Where prisma.config.ts says they are, from the project root, so the tools
// work from any working directory and from dist/.
const root = projectRoot;
export const paths = {
  root,
  schema: path.join(root, 'prisma', 'schema.prisma'),
  migrations: path.join(root, 'prisma', 'migrations'),
};

/** The key `prisma migrate` takes with pg_advisory_lock, so this runner and Prisma's tools never migrate at once. */
export const PRISMA_MIGRATION_LOCK = 72707369;

const MIGRATIONS_TABLE = '_prisma_migrations';

// Prisma's DDL for the table (its Postgres flavour), column for column.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface MigrationFile {
  name: string;
  script: string;
  checksum: string;
  /** Checksums Prisma accepts for this file (line endings as git may have changed them). */
  acceptedChecksums: Set<string>;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
}

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

/** prisma/migrations/<name>/migration.sql, in name order (byte order, as Prisma sorts them). */
async function readMigrationFiles(directory: string): Promise<MigrationFile[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') throw new MigrationError(`no migrations directory at ${directory}`, { cause: error });
    throw error;
  });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(directory, name, 'migration.sql');
      const bytes = await readFile(file).catch((error: unknown) => {
        throw new MigrationError(`migration ${name} has no readable migration.sql (${messageOf(error)})`, { migration: name, cause: error });
      });
      const script = bytes.toString('utf8');
      // Prisma's checksum is sha256 of the file; when comparing, it also
      // accepts the file with CRLF made LF and LF made CRLF.
      const checksum = sha256(bytes);
      const acceptedChecksums = new Set([checksum, sha256(script.replaceAll('\r\n', '\n')), sha256(script.replaceAll('\n', '\r\n'))]);
      return { name, script, checksum, acceptedChecksums };
    }),
  );
}

/** Everything in the table that stops a deploy, in one message; empty when there is nothing. */
function problemsWith(rows: MigrationRow[], files: Map<string, MigrationFile>): string[] {
  const problems: string[] = [];
  for (const row of rows) {
    if (row.rolled_back_at !== null) continue; // resolved as rolled back: as if never run
    const name = row.migration_name;
    if (row.finished_at === null) {
      const reason = row.logs?.trim().split('\n').filter(Boolean).at(-1);
      problems.push(
        `migration ${name} failed on ${row.started_at.toISOString()}${reason ? ` (${reason})` : ''} and is recorded as failed. ` +
          `Repair the database if needed, then mark it rolled back: ` +
          `UPDATE "${MIGRATIONS_TABLE}" SET rolled_back_at = now() WHERE id = '${row.id}';`,
      );
      continue;
    }
    const file = files.get(name);
    if (!file) {
      problems.push(`applied migration ${name} is not in the migrations directory (deleted or renamed?)`);
    } else if (!file.acceptedChecksums.has(row.checksum)) {
      problems.push(`applied migration ${name} was modified after it was applied: its migration.sql no longer matches the checksum recorded then`);
    }
  }
  return problems;
}

/** What Prisma writes to `logs` for a failed migration. */
function failureLog(error: unknown): string {
  const code = errorCode(error);
  return `${code ? `Database error code: ${code}\n\n` : ''}Database error:\n${messageOf(error)}`;
}

async function takeLock(client: pg.Client, log: Log | undefined): Promise<void> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [PRISMA_MIGRATION_LOCK]);
  if (rows[0]?.locked) return;
  log?.(`waiting for another migration run to finish (advisory lock ${PRISMA_MIGRATION_LOCK})`);
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATION_LOCK]);
}

export interface RunMigrationsOptions {
  /** Progress ("Applying `name`") and waits; nothing when the database is up to date. */
  log?: Log;
  /** Defaults to prisma/migrations. */
  migrationsDir?: string;
}

/**
 * Applies the migrations the database has not seen, in name order, each as one
 * PostgreSQL transaction, and returns their names. Refuses to apply anything
 * (MigrationError) while the table records a failed migration, an applied
 * migration whose file changed, or one whose directory is gone.
 */
export async function runMigrations(databaseUrl: string, options: RunMigrationsOptions = {}): Promise<{ applied: string[] }> {
  const { log, migrationsDir = paths.migrations } = options;
  const files = await readMigrationFiles(migrationsDir);
  return withExistingDatabase(databaseUrl, async (client) => {
    await takeLock(client, log);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<MigrationRow>(
        `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at
         FROM "${MIGRATIONS_TABLE}" ORDER BY started_at, migration_name`,
      );
      const problems = problemsWith(rows, new Map(files.map((file) => [file.name, file])));
      if (problems.length > 0) {
        throw new MigrationError(`refusing to migrate; ${MIGRATIONS_TABLE} disagrees with ${migrationsDir}:\n- ${problems.join('\n- ')}`);
      }
      const done = new Set(rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name));
      const applied: string[] = [];
      for (const file of files.filter((candidate) => !done.has(candidate.name))) {
        log?.(`Applying \`${file.name}\``);
        await applyOne(client, file);
        applied.push(file.name);
      }
      return { applied };
    } finally {
      // Closing the connection releases the lock as well; this is for clarity.
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATION_LOCK]).catch(() => {});
    }
  });
}

async function applyOne(client: pg.Client, file: MigrationFile): Promise<void> {
  const id = randomUUID();
  // Recorded as started first, outside the migration's transaction, as Prisma
  // does: if the process dies mid-way the row says so.
  await client.query(
    `INSERT INTO "${MIGRATIONS_TABLE}" (id, checksum, started_at, finished_at, migration_name, logs, rolled_back_at, applied_steps_count)
     VALUES ($1, $2, now(), NULL, $3, NULL, NULL, 0)`,
    [id, file.checksum, file.name],
  );
  try {
    // One simple-protocol query (no parameters): PostgreSQL parses the whole
    // script itself and runs it as one implicit transaction, so a failing
    // statement undoes the ones before it.
    await client.query(file.script);
  } catch (error) {
    // Only a script that opened its own transaction block leaves one open.
    await client.query('ROLLBACK').catch(() => {});
    await client.query(`UPDATE "${MIGRATIONS_TABLE}" SET logs = $2 WHERE id = $1`, [id, failureLog(error)]).catch(() => {});
    const code = errorCode(error);
    throw new MigrationError(
      `migration ${file.name} failed: ${messageOf(error)}${code ? ` [${code}]` : ''}. ` +
        `PostgreSQL rolled it back; it is recorded as failed in ${MIGRATIONS_TABLE}, and no later migration ran`,
      { migration: file.name, ...(code ? { code } : {}), cause: error },
    );
  }
  await client.query(`UPDATE "${MIGRATIONS_TABLE}" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
}
