import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Tokens in links and API keys are random and stored only as sha256 hashes:
// with 256 bits of entropy a fast hash is enough (no salt or KDF needed).

export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
