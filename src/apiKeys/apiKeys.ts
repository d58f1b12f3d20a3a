import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../audit/auditLog.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { hashToken, newToken } from '../infra/tokens.js';
import { AppError } from '../http/errors.js';

// API keys, whoever holds them (a partner, an enforcer): one implementation of
// issuing, authenticating, rotating and revoking. A key authenticates while it
// is neither revoked nor past its expiry. Rotation adds a key and gives every
// older live key an expiry at the end of a grace period, so the holder can
// switch without an outage; revocation ends one key at once (a leaked key).
// Keys are stored as sha256 hashes only; the raw key is in exactly one
// response. Each kind of holder keeps its keys in a table of its own (a key
// names its holder by a foreign key); `KeyTable` is the few lines that differ.

/** The grace period of a rotation, unless the operator asks for another. */
export const DEFAULT_GRACE_SECONDS = 86_400;
/** Longer than a week would let a leaked key outlive any reasonable switch-over. */
export const MAX_GRACE_SECONDS = 7 * 86_400;
/** Characters after the tag that the shown prefix keeps: enough to tell keys apart, far too few to guess one. */
export const PREFIX_CHARACTERS = 7;

/** Who holds a kind of key: the name its audit events, messages and audit data use (`partner.apiKeyRotated`, `partnerId`). */
export type KeyHolderKind = 'partner' | 'enforcer';

export interface KeyKind {
  holder: KeyHolderKind;
  /** What every key of this kind starts with (`pf_`, `pfe_`), so a key says what it is. */
  tag: string;
}

/** A new key of this kind: the key (shown once), its hash (stored) and its prefix (shown in lists). */
export function newApiKey(kind: KeyKind) {
  const apiKey = `${kind.tag}${newToken()}`;
  return { apiKey, keyHash: hashToken(apiKey), prefix: apiKey.slice(0, kind.tag.length + PREFIX_CHARACTERS) };
}

/** What every key table holds, whoever the holder is. */
export type KeyRow = { id: string; prefix: string; createdAt: Date; expiresAt: Date | null; revokedAt: Date | null };

/** The conditions a key query may use: the same columns in every key table. */
export type KeyWhere = {
  id?: string | { in: string[] };
  prefix?: string;
  revokedAt?: null;
  OR?: ({ expiresAt: null } | { expiresAt: { gt: Date } })[];
};

/** Keys that authenticate at `now`. */
export const liveAt = (now: Date) => ({ revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }) satisfies KeyWhere;

const isLive = (key: KeyRow, now: Date) => !key.revokedAt && (!key.expiresAt || key.expiresAt > now);

export function keyView(key: KeyRow, now = new Date()) {
  const status = key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt <= now ? 'expired' : key.expiresAt ? 'expiring' : 'active';
  return {
    id: key.id,
    prefix: key.prefix,
    status,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

type Tx = Prisma.TransactionClient;

/**
 * Where one kind of holder keeps its keys: its key table and its own table.
 * Every query of the key table is narrowed to one holder's keys, newest first.
 */
export interface KeyTable<Holder> {
  /** The key with this hash (live or not) and who holds it, or null. */
  findByHash(db: Database, keyHash: string): Promise<{ key: KeyRow; holder: Holder } | null>;
  holderExists(db: Database, holderId: string): Promise<boolean>;
  /** Locks the holder's row until the transaction ends; false when there is no such holder. */
  lockHolder(tx: Tx, holderId: string): Promise<boolean>;
  findMany(tx: Tx | Database, holderId: string, where: KeyWhere): Promise<KeyRow[]>;
  create(tx: Tx, holderId: string, key: { keyHash: string; prefix: string }): Promise<KeyRow>;
  update(tx: Tx, keyId: string, data: { expiresAt: Date } | { revokedAt: Date }): Promise<KeyRow>;
}

/** An audit event of the operator's (every key change is one); `data` never holds a key, only its id and prefix. */
export async function auditOperatorChange(tx: Tx, holder: KeyHolderKind, action: string, data: Prisma.InputJsonObject) {
  await appendAuditEvent(tx, { idempotencyKey: `${holder}-key-${randomUUID()}`, actorType: 'operator', actorId: 'operator', action, data });
}

/** The keys of one kind of holder: authenticate, list, rotate, revoke. */
export function createKeyring<Holder>(db: Database, kind: KeyKind, table: KeyTable<Holder>) {
  const { holder } = kind;
  const Holder = `${holder.charAt(0).toUpperCase()}${holder.slice(1)}`;
  const holderIdField = `${holder}Id`;

  async function lockHolder(tx: Tx, holderId: string) {
    if (!(await table.lockHolder(tx, holderId))) throw new AppError('notFound', `No ${holder} ${holderId}.`);
  }

  /** Who holds a presented key, when the key is live now. */
  async function authenticate(apiKey: string): Promise<{ holder: Holder; keyId: string } | null> {
    const found = await table.findByHash(db, hashToken(apiKey));
    if (!found || !isLive(found.key, new Date())) return null;
    return { holder: found.holder, keyId: found.key.id };
  }

  async function list(holderId: string) {
    if (!(await table.holderExists(db, holderId))) throw new AppError('notFound', `No ${holder} ${holderId}.`);
    return (await table.findMany(db, holderId, {})).map((k) => keyView(k));
  }

  /**
   * A new key; the holder's other live keys expire after `graceSeconds`
   * (never later than they already would). Serialized per holder, so two
   * rotations at once cannot leave a key without its expiry.
   */
  async function rotate(holderId: string, graceSeconds: number) {
    const fresh = newApiKey(kind);
    return db.$transaction(async (tx) => {
      await lockHolder(tx, holderId);
      const now = new Date();
      const graceEnd = new Date(now.getTime() + graceSeconds * 1000);
      const older = await table.findMany(tx, holderId, liveAt(now));
      for (const key of older) {
        if (key.expiresAt && key.expiresAt <= graceEnd) continue;
        await table.update(tx, key.id, { expiresAt: graceEnd });
      }
      const created = await table.create(tx, holderId, { keyHash: fresh.keyHash, prefix: fresh.prefix });
      const previous = await table.findMany(tx, holderId, { id: { in: older.map((k) => k.id) } });
      await auditOperatorChange(tx, holder, `${holder}.apiKeyRotated`, {
        [holderIdField]: holderId,
        keyId: created.id,
        prefix: created.prefix,
        graceSeconds,
        previousKeys: previous.map((k) => ({ id: k.id, prefix: k.prefix, expiresAt: k.expiresAt?.toISOString() ?? null })),
      });
      return { apiKey: fresh.apiKey, key: keyView(created, now), previousKeys: previous.map((k) => keyView(k, now)) };
    });
  }

  /** Ends one key at once; revoking a revoked key changes nothing and answers the same. */
  async function revoke(holderId: string, ref: { id: string } | { prefix: string }) {
    return db.$transaction(async (tx) => {
      await lockHolder(tx, holderId);
      const matches = await table.findMany(tx, holderId, ref);
      if (matches.length === 0) throw new AppError('notFound', `${Holder} ${holderId} has no such key.`);
      const key = matches[0];
      if (!key || matches.length > 1) throw new AppError('conflict', 'More than one key has this prefix; revoke it by its id.', { reason: 'ambiguousKeyPrefix' });
      if (key.revokedAt) return keyView(key);
      const revoked = await table.update(tx, key.id, { revokedAt: new Date() });
      await auditOperatorChange(tx, holder, `${holder}.apiKeyRevoked`, { [holderIdField]: holderId, keyId: key.id, prefix: key.prefix });
      return keyView(revoked);
    });
  }

  return { kind, authenticate, list, rotate, revoke };
}

export type Keyring<Holder = unknown> = ReturnType<typeof createKeyring<Holder>>;
