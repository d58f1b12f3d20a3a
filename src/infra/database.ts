import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Database = PrismaClient;

// One pooled client per process, created at start-up and closed on shutdown.
export function createDatabase(databaseUrl: string): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

/** A plain pg pool, for the one hot path that skips Prisma (the access check's prepared statements). */
export function createPgPool(databaseUrl: string, max: number): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl, max });
}
