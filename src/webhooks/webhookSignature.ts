import { createHmac, timingSafeEqual } from 'node:crypto';

// The signature scheme every webhook carries, and the reference check a
// receiver runs (partners may copy this file; it needs only node:crypto).
//
//   Partnerflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${rawBody}`)>
//
// The timestamp is inside the MAC, so an attacker who captured a delivery can
// neither change its body nor make an old one look new: receivers refuse
// timestamps outside a tolerance window and, within it, drop event ids they
// have already processed (the `id` field / Partnerflow-Delivery header).

export const SIGNATURE_HEADER = 'Partnerflow-Signature';
export const DELIVERY_HEADER = 'Partnerflow-Delivery';
export const EVENT_HEADER = 'Partnerflow-Event';

/** How far a signed timestamp may be from the receiver's clock (either way) before it is refused. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureCheck =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'malformed' | 'timestampOutOfRange' | 'signatureMismatch' };

function mac(secret: string, timestamp: number, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', secret).update(`${timestamp}.`);
  return hmac.update(body).digest('hex');
}

/** The header value for `body` signed at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string | Uint8Array, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${mac(secret, timestamp, body)}`;
}

/**
 * Checks a delivery. Pass the raw request body exactly as received (not
 * re-serialised JSON: key order and spacing are part of what was signed).
 * Several `v1=` entries are accepted, so a sender can sign with an old and a
 * new secret while a secret is being rotated.
 */
export function verifyWebhook(
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array,
  { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Date.now() }: { toleranceSeconds?: number; now?: number } = {},
): SignatureCheck {
  if (!header) return { ok: false, reason: 'malformed' };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return { ok: false, reason: 'timestampOutOfRange' };
  const expected = Buffer.from(mac(secret, timestamp, body), 'hex');
  const matches = signatures.some((candidate) => timingSafeEqual(Buffer.from(candidate, 'hex'), expected));
  return matches ? { ok: true, timestamp } : { ok: false, reason: 'signatureMismatch' };
}
