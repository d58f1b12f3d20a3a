import { createHmac, randomUUID } from 'node:crypto';
import { hashToken } from './tokens.js';

// The token in an emailed link is derived, not stored: HMAC-SHA256(LINK_SECRET,
// "<kind>:<row id>"). The row keeps only sha256(token), as before; the mail job
// carries only {kind, id}, and the mail worker derives the token just before it
// renders the email. So Redis, Bull Board and logs never hold a usable link,
// and a retried step derives the same token for the same row (no rotation).
// The kind separates the tables: one row id can never open another kind of link.

export type LinkKind = 'invitation' | 'signIn' | 'domainChallenge' | 'adminInvite';

/** Where each kind of link opens; the token is appended. */
export const linkPaths: Record<LinkKind, string> = {
  invitation: '/invitations/',
  signIn: '/sign-in/',
  domainChallenge: '/tenants/verify/',
  adminInvite: '/tenant-admins/confirm/',
};

/** What a mail job carries instead of a URL: enough to derive it, nothing that opens it. */
export interface LinkRef {
  kind: LinkKind;
  id: string;
  path: string;
  /**
   * The first hex digits of sha256(token): lets the worker refuse to send a dead link when its
   * LINK_SECRET differs from the one the row was made with. A hash prefix opens nothing.
   */
  check: string;
}

const CHECK_LENGTH = 12;

export function deriveLinkToken(secret: string, kind: LinkKind, id: string): string {
  return createHmac('sha256', secret).update(`${kind}:${id}`).digest('base64url');
}

export interface IssuedLink {
  /** The row id to store (the derivation input). */
  id: string;
  /** Only for a redirect in the same response; never put it in a job or a log. */
  token: string;
  tokenHash: string;
  ref: LinkRef;
}

/** The link for a row: its token, the hash to store and the reference a mail job carries. */
export function linkFor(secret: string, kind: LinkKind, id: string = randomUUID()): IssuedLink {
  const token = deriveLinkToken(secret, kind, id);
  const tokenHash = hashToken(token);
  return { id, token, tokenHash, ref: { kind, id, path: linkPaths[kind], check: tokenHash.slice(0, CHECK_LENGTH) } };
}

export class LinkSecretMismatchError extends Error {
  constructor(readonly ref: LinkRef) {
    super(`the ${ref.kind} link ${ref.id} was made with another LINK_SECRET; the API and the worker must share one`);
    this.name = 'LinkSecretMismatchError';
  }
}

/** The absolute URL of a referenced link, derived now. Throws when the secret does not match the row's hash. */
export function linkUrl(secret: string, publicBaseUrl: string, ref: LinkRef): string {
  const token = deriveLinkToken(secret, ref.kind, ref.id);
  if (!hashToken(token).startsWith(ref.check)) throw new LinkSecretMismatchError(ref);
  return new URL(`${ref.path}${token}`, publicBaseUrl).toString();
}
