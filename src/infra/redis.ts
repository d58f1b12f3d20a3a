import { Redis } from 'ioredis';

// BullMQ workers block on Redis and must retry forever; producers in the API
// should fail fast (503) instead of queueing commands while Redis is down.
export function createWorkerRedis(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

export function createProducerRedis(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
}
