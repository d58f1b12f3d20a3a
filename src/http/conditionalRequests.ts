import { createHash } from 'node:crypto';
import { AppError } from './errors.js';

// ETags of a relationship are strong validators: a hash of the exact JSON the
// GET returns. A hash rather than the read model's `version` column, because
// some changes a client sees (a resend's new expiry, the trial's status, a
// renewal's end date) don't add a transition; and strong, because If-Match
// compares strongly (RFC 9110 §13.1.1), so a weak tag could never match.

export function etagOf(representation: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(representation)).digest('base64url').slice(0, 27)}"`;
}

const opaqueTag = /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

function parseTags(header: string): { weak: boolean; tag: string }[] {
  return header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => opaqueTag.test(part))
    .map((part) => ({ weak: part.startsWith('W/'), tag: part.replace(/^W\//, '') }));
}

/** If-None-Match (weak comparison): true when the client's copy is current, so 304 is the answer. */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return parseTags(ifNoneMatch).some(({ tag }) => tag === etag);
}

/** If-Match (strong comparison): refuses the change with 412 when the client's copy is stale. */
export function requireIfMatch(ifMatch: string | undefined, etag: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const matched = parseTags(ifMatch).some(({ weak, tag }) => !weak && tag === etag);
  if (!matched) {
    throw new AppError('preconditionFailed', 'The relationship changed since you read it (If-Match does not match its ETag).', {
      currentEtag: etag,
    });
  }
}
