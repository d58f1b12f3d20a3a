import type { Payload } from '@temporalio/common';

/** Every payload anywhere in a fetched history (any object with `metadata` and byte `data`), in order. */
export function payloadsIn(value: unknown, out: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return out;
  if ('metadata' in value && 'data' in value && (value as Payload).data instanceof Uint8Array) out.push(value as Payload);
  else for (const item of Object.values(value)) payloadsIn(item, out);
  return out;
}
