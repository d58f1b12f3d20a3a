import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { inject } from 'vitest';
import { PrismaClient } from '../../src/generated/prisma/client.js';

/**
 * A Prisma client on a pool of the test's own whose statements are recorded as they are sent, so a
 * test can count what one operation costs (issue 13) with no other file's traffic in the count.
 */
export function countingDatabase() {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  const texts: string[] = [];
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    Reflect.set(client, 'query', (...args: unknown[]) => {
      const first = args[0];
      texts.push(typeof first === 'string' ? first : String(Reflect.get(Object(first), 'text') ?? ''));
      return query(...args);
    });
  });
  const db = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    db,
    /** The statements sent while `work` ran, and its result. */
    statementsOf: async <T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> => {
      texts.length = 0;
      const result = await work();
      return { result, statements: [...texts] };
    },
    close: async () => {
      await db.$disconnect();
      await pool.end();
    },
  };
}

/** Statements as one line each, for an assertion's message. */
export const listed = (statements: string[]) => statements.map((t) => t.replace(/\s+/g, ' ').slice(0, 90)).join('\n');
