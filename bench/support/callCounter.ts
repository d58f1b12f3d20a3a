import { Redis } from 'ioredis';
import pg from 'pg';
import { LatencyHistogram, type HistogramData } from './latencyHistogram.js';

/**
 * Counts SQL statements (pg's Client#query, which Prisma's adapter, BEGIN and
 * COMMIT included, goes through) and Redis commands (ioredis#sendCommand, which
 * BullMQ and the API use) made by this process, and tallies statements by
 * their text. A diagnostic of per-relationship work: it wraps the two methods
 * on their prototypes; `restore()` puts them back. Each call is also timed,
 * from the call to its answer (promise or callback), into a histogram: the
 * time includes waiting for a pooled connection, which is part of the cost.
 */
export function countCalls() {
  const counts = { sql: 0, redis: 0 };
  const statements = new Map<string, number>();
  const commands = new Map<string, number>();
  const sqlTime = new LatencyHistogram();
  const redisTime = new LatencyHistogram();
  const restore = [
    wrap(pg.Client.prototype, 'query', (args) => {
      counts.sql += 1;
      const text = statementText(args[0]);
      statements.set(text, (statements.get(text) ?? 0) + 1);
      return sqlTime;
    }),
    wrap(Redis.prototype, 'sendCommand', (args) => {
      counts.redis += 1;
      const name = commandName(args[0]);
      commands.set(name, (commands.get(name) ?? 0) + 1);
      // A blocking pop (a BullMQ worker waiting for its next job) takes as long as the queue is empty: not a cost.
      return BLOCKING.has(name) ? undefined : redisTime;
    }),
  ];
  return {
    snapshot: (): CallSnapshot => ({ ...counts, statements: new Map(statements), commands: new Map(commands), sqlTime: sqlTime.data(), redisTime: redisTime.data() }),
    restore() {
      for (const undo of restore) undo();
    },
  };
}

export interface CallSnapshot {
  sql: number;
  redis: number;
  statements: Map<string, number>;
  /** Redis commands by name. */
  commands: Map<string, number>;
  /** Latency of every SQL statement / Redis command (but blocking pops) so far. */
  sqlTime: HistogramData;
  redisTime: HistogramData;
}

export const emptySnapshot = (): CallSnapshot => ({ sql: 0, redis: 0, statements: new Map(), commands: new Map(), sqlTime: new LatencyHistogram().data(), redisTime: new LatencyHistogram().data() });

/** Several processes' snapshots as one (the API's and the workers' in the multi-process topology). */
export function sumSnapshots(snapshots: CallSnapshot[]): CallSnapshot {
  const sum = emptySnapshot();
  const add = (into: HistogramData, from: HistogramData) => {
    from.counts.forEach((n, i) => (into.counts[i] = (into.counts[i] ?? 0) + n));
    into.count += from.count;
    into.sumMs += from.sumMs;
  };
  for (const s of snapshots) {
    sum.sql += s.sql;
    sum.redis += s.redis;
    for (const [text, n] of s.statements) sum.statements.set(text, (sum.statements.get(text) ?? 0) + n);
    for (const [name, n] of s.commands) sum.commands.set(name, (sum.commands.get(name) ?? 0) + n);
    add(sum.sqlTime, s.sqlTime);
    add(sum.redisTime, s.redisTime);
  }
  return sum;
}

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

const BLOCKING = new Set(['bzpopmin', 'bzpopmax', 'brpoplpush', 'blmove', 'brpop', 'blpop', 'bzmpop', 'blmpop']);

function commandName(command: unknown): string {
  const name: unknown = typeof command === 'object' && command !== null ? Reflect.get(command, 'name') : undefined;
  return typeof name === 'string' ? name.toLowerCase() : '(unknown)';
}

function wrap(target: object, method: string, onCall: (args: unknown[]) => LatencyHistogram | undefined): () => void {
  const original: unknown = Reflect.get(target, method);
  if (typeof original !== 'function') throw new Error(`${method} is not a method any more; revisit bench/support/callCounter.ts`);
  Reflect.set(target, method, function (this: unknown, ...args: unknown[]): unknown {
    const times = onCall(args);
    const started = performance.now();
    const done = () => times?.add(performance.now() - started);
    // pg's Pool#query calls Client#query with a callback; Prisma's adapter and ioredis use the promise.
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = function (this: unknown, ...results: unknown[]): unknown {
        done();
        return Reflect.apply(last, this, results) as unknown;
      };
    }
    const result = Reflect.apply(original, this, args) as unknown;
    if (typeof last !== 'function' && isThenable(result)) result.then(done, done);
    return result;
  });
  return () => Reflect.set(target, method, original);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'then') === 'function';
}
