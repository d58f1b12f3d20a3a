import { PrismaPg } from '@prisma/adapter-pg';
import { ColumnTypeEnum, type SqlDriverAdapter, type SqlQuery } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaEngineAdapterFactory } from '../../src/infra/migrations.js';
import { databaseUrlFor, dropDatabase, maintenanceUrl, query, uniqueDatabaseName } from '../support/scratchDatabases.js';

// The schema engine (npm run db:new, db:check) reaches PostgreSQL through
// adapter-pg, with two adjustments made from outside it (src/infra/migrations.ts):
// "char" columns reported as text (CharAsTextClient) and scripts sent whole
// (WholeScriptAdapter). These tests pin down both, and fail loudly the day
// adapter-pg changes underneath: either because it broke our adjustments, or
// because it no longer needs them.

const database = uniqueDatabaseName('adapter_test');
const databaseUrl = databaseUrlFor(database);

const sql = (text: string): SqlQuery => ({ sql: text, args: [], argTypes: [] });
const CHAR_QUERY = sql(`SELECT relkind FROM pg_class WHERE relname = 'pg_class'`);

/** What a rejected call threw, or 'resolved'. */
const outcome = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'resolved', (error: unknown) => error);

beforeAll(async () => {
  await query(maintenanceUrl, `CREATE DATABASE ${pg.escapeIdentifier(database)}`);
});

afterAll(async () => {
  await dropDatabase(database);
});

describe('adapter-pg as the schema engine gets it', { timeout: 30_000 }, () => {
  let plainFactory: PrismaPg;
  let plain: SqlDriverAdapter;
  let factory: SchemaEngineAdapterFactory;
  let ours: SqlDriverAdapter;

  beforeAll(async () => {
    plainFactory = new PrismaPg({ connectionString: databaseUrl });
    plain = await plainFactory.connect();
    factory = new SchemaEngineAdapterFactory(databaseUrl);
    ours = await factory.connect();
  });

  afterAll(async () => {
    await plain.dispose();
    await factory.dispose();
  });

  it('plain adapter-pg still cannot read a "char" column (else CharAsTextClient can go)', async () => {
    const result = await outcome(plain.queryRaw(CHAR_QUERY));
    if (result === 'resolved') {
      expect.fail(
        '@prisma/adapter-pg now reads PostgreSQL "char" (OID 18) columns itself: the CharAsTextClient workaround in ' +
          'src/infra/migrations.ts is no longer needed and can go (and this test with it)',
      );
    }
    expect(result).toMatchObject({ name: 'DriverAdapterError', cause: { kind: 'UnsupportedNativeDataType', type: 'char' } });
  });

  it('our adapter reads a "char" column as text, outside and inside a transaction', async () => {
    expect(await ours.queryRaw(CHAR_QUERY)).toEqual({ columnNames: ['relkind'], columnTypes: [ColumnTypeEnum.Text], rows: [['r']] });
    const transaction = await ours.startTransaction();
    try {
      expect(await transaction.queryRaw(CHAR_QUERY)).toEqual({ columnNames: ['relkind'], columnTypes: [ColumnTypeEnum.Text], rows: [['r']] });
    } finally {
      // adapter-pg's rollback() only releases the connection; the caller sends ROLLBACK (Prisma's engines do).
      await transaction.executeRaw(sql('ROLLBACK'));
      await transaction.rollback();
    }
  });

  it('leaves every other column type as adapter-pg maps it', async () => {
    const query = sql(`SELECT 'x'::text AS t, 1::int4 AS i, true AS b, ARRAY['a']::"char"[] AS chars`);
    expect(await ours.queryRaw(query)).toEqual(await plain.queryRaw(query));
  });

  it('plain adapter-pg still splits scripts at every ";" (else WholeScriptAdapter can go)', async () => {
    const result = await outcome(plain.executeScript(`CREATE TABLE plain_notes (body text DEFAULT 'a;b')`));
    if (result === 'resolved') {
      expect.fail(
        "@prisma/adapter-pg's executeScript now runs a script as written (no split at ';'): the WholeScriptAdapter " +
          'workaround in src/infra/migrations.ts may no longer be needed; check it runs a script as one transaction',
      );
    }
    expect(result).toMatchObject({ name: 'DriverAdapterError', cause: { kind: 'postgres', code: '42601' } }); // syntax error
  });

  it('our adapter runs a script as written, as one transaction', async () => {
    await ours.executeScript(`CREATE TABLE notes (body text DEFAULT 'a;b');\nINSERT INTO notes DEFAULT VALUES;`);
    expect(await query(databaseUrl, 'SELECT body FROM notes')).toEqual([{ body: 'a;b' }]);

    const failed = await outcome(ours.executeScript(`CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\nSELECT 1/0;`));
    expect(failed).toMatchObject({ name: 'DriverAdapterError', cause: { kind: 'postgres', code: '22012' } }); // division by zero
    expect(await query(databaseUrl, `SELECT to_regclass('half') IS NULL AS gone`)).toEqual([{ gone: true }]);
  });

  it('gives a shadow database the same client, and drops it afterwards', async () => {
    const shadowFactory = new SchemaEngineAdapterFactory(databaseUrl);
    try {
      const shadow = await shadowFactory.connectToShadowDb();
      const [row] = (await shadow.queryRaw(sql('SELECT current_database() AS name, (SELECT relkind FROM pg_class LIMIT 1) AS kind'))).rows;
      const shadowName = String(row?.[0]);
      expect(shadowName).toMatch(/^prisma_migrate_shadow_db_/);
      expect(typeof row?.[1]).toBe('string');
      await shadowFactory.dispose();
      expect(await query(maintenanceUrl, `SELECT datname FROM pg_database WHERE datname = '${shadowName}'`)).toEqual([]);
    } finally {
      await shadowFactory.dispose();
    }
  });
});
