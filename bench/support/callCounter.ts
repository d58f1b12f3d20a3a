import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Counts SQL statements (pg's Client#query, which Prisma's adapter, BEGIN and
 * COMMIT included, goes through) and Redis commands (ioredis#sendCommand, which
 * BullMQ and the API use) made by this process, and tallies statements by
 * their text. A diagnostic of per-relationship work: it wraps the two methods
 * on their prototypes; `restore()` puts them back.
 */
export function countCalls() {
  const counts = { sql: 0, redis: 0 };
  const statements = new Map<string, number>();
  const restore = [
    wrap(pg.Client.prototype, 'query', (args) => {
      counts.sql += 1;
      const text = statementText(args[0]);
      statements.set(text, (statements.get(text) ?? 0) + 1);
    }),
    wrap(Redis.prototype, 'sendCommand', () => (counts.redis += 1)),
  ];
  return {
    snapshot: () => ({ ...counts, statements: new Map(statements) }),
    restore() {
      for (const undo of restore) undo();
    },
  };
}

export type CallSnapshot = ReturnType<ReturnType<typeof countCalls>['snapshot']>;

/** The statements made between two snapshots, most frequent first. */
export function statementsBetween(before: CallSnapshot, after: CallSnapshot): [string, number][] {
  return [...after.statements]
    .map(([text, count]): [string, number] => [text, count - (before.statements.get(text) ?? 0)])
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1]);
}

function statementText(config: unknown): string {
  const text: unknown = typeof config === 'string' ? config : typeof config === 'object' && config !== null ? Reflect.get(config, 'text') : undefined;
  return typeof text === 'string' ? text.replace(/\s+/g, ' ').slice(0, 110) : '(not text)';
}

function wrap(target: object, method: string, onCall: (args: unknown[]) => void): () => void {
  const original: unknown = Reflect.get(target, method);
  if (typeof original !== 'function') throw new Error(`${method} is not a method any more; revisit bench/support/callCounter.ts`);
  Reflect.set(target, method, function (this: unknown, ...args: unknown[]): unknown {
    onCall(args);
    return Reflect.apply(original, this, args) as unknown;
  });
  return () => Reflect.set(target, method, original);
}
