import { AppError } from './errors.js';

// The API's Redis connection has no offline queue, so a command fails at once
// while Redis is down; the timeout covers a Redis that accepts but never
// answers. Either way the caller gets a quick 503 instead of a hung request.
const REDIS_TIMEOUT_MS = 1_000;

export async function withRedis<T>(what: string, operation: () => Promise<T>, timeoutMs = REDIS_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([operation(), timeout]);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('unavailable', `Cannot ${what} right now; try again shortly.`, { retryAfterSeconds: 5 });
  } finally {
    clearTimeout(timer);
  }
}
