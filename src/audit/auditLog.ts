import { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { utcTimestamp } from '../infra/sqlTimestamp.js';
import { GENESIS_HASH, linkHash, SERVICE_CHAIN, tenantChain, type AuditLinkFields, type JsonValue } from './auditChain.js';

// The one writer of audit events. Each event becomes the next link of its
// chain in the caller's transaction, so an event and the change it records
// commit (or roll back) together with the link.
//
// Which chain: an event about a relationship joins the chain of the
// relationship's tenant (its tenant_domain, as the partner named it); a
// tenant-directory event the chain of its tenant_domain; anything else (an
// operator's key changes, a partner paused) the "service" chain.
//
// Writers of one chain take turns on its head row (audit_chain_heads), locked
// by the upsert below until the transaction ends: concurrent accepts in one
// tenant queue there for the few milliseconds left of each other's
// transactions, and the chain never forks (the unique (chain, seq) index
// would refuse a fork even so). The lock is taken at the audit write, after
// the row the caller already locked (relationship, tenant, partner, key
// holder), and after it a caller touches only rows of that same object, so
// two writers never wait on each other in opposite orders. A transaction
// that audits into two chains must take them in one order (none does).
// The read model's transitions lock the head in the statement that moves the
// relationship's row (tenantHeadLock, after the row), and a transition out of
// `invited` locks its partner's row only at that statement's end (the pending
// count's trigger), after the head: no writer locks a partner row and then a
// tenant chain's head (a partner's own events go to the service chain).
//
// Retries: an event whose idempotency key is already stored is not appended
// again, and the head moves only with a row actually inserted, so a retried
// activity neither adds a second link nor leaves a gap.

type Tx = Prisma.TransactionClient;

export interface AuditEventInput {
  /** workflowId + step, or a per-request id: a second write with it changes nothing. */
  idempotencyKey: string;
  relationshipId?: string | null;
  /** Set on tenant-directory events only (tests and the takeover checks rely on it). */
  tenantDomain?: string | null;
  actorType: string;
  actorId?: string | null;
  action: string;
  fromStatus?: string | null;
  toStatus?: string | null;
  reason?: string | null;
  data?: Prisma.InputJsonValue | null;
  /** Default: now. Stored to the millisecond, as the hash reads it. */
  createdAt?: Date;
}

export interface AppendedLink {
  chain: string;
  /** Null when the idempotency key was already stored (nothing appended). */
  seq: bigint | null;
}

/** The data as it will read back from jsonb: undefined members dropped, dates as strings. */
const storedJson = (data: Prisma.InputJsonValue | null | undefined): JsonValue | null =>
  data === null || data === undefined ? null : (JSON.parse(JSON.stringify(data)) as JsonValue);

/** A chain's head as its lock returned it. */
export type LockedHead = { chain: string; seq: bigint | number | string; hash: string };

/**
 * The statement (or CTE) that locks the head of the chain `chains` names (one row, or none for
 * no chain), creating the head at the chain's first event.
 */
const headLock = (chains: Prisma.Sql) => Prisma.sql`
    INSERT INTO audit_chain_heads AS h (chain, seq, hash, updated_at)
    SELECT c.chain, 0, ${GENESIS_HASH}, now() FROM (${chains}) c(chain)
    WHERE c.chain IS NOT NULL
    ON CONFLICT (chain) DO UPDATE SET updated_at = h.updated_at
    RETURNING h.chain, h.seq, h.hash`;

/**
 * The head lock of the tenant chain of the domain `domains` yields, as a CTE body: for a writer
 * that locks the head in its own first statement (the read model's transitions) and then appends
 * with `appendAfterHead`. The lock order above still holds only if that statement's own rows are
 * locked first, which a CTE does when `domains` reads them from the CTE that writes them.
 */
export const tenantHeadLock = (domains: Prisma.Sql) => headLock(Prisma.sql`SELECT 'tenant:' || d.domain FROM (${domains}) d(domain)`);

/** Resolves the chain and locks its head in one statement. */
async function lockHead(tx: Tx, event: AuditEventInput): Promise<LockedHead> {
  const relationshipId = event.relationshipId ?? null;
  const chains =
    relationshipId === null
      ? Prisma.sql`SELECT ${event.tenantDomain ? tenantChain(event.tenantDomain) : SERVICE_CHAIN}::text`
      : Prisma.sql`SELECT 'tenant:' || r.tenant_domain FROM relationships r WHERE r.id = ${relationshipId}::uuid`;
  const head = (await tx.$queryRaw<LockedHead[]>(headLock(chains)))[0];
  if (!head) throw new Error(`audit event ${event.idempotencyKey}: no relationship ${relationshipId}`);
  return head;
}

/** The event as the link after `prev` (its hash included). */
function linkAfter(prev: { chain: string; seq: bigint; hash: string }, event: AuditEventInput) {
  const link: AuditLinkFields = {
    chain: prev.chain,
    seq: prev.seq + 1n,
    prevHash: prev.hash,
    idempotencyKey: event.idempotencyKey,
    relationshipId: event.relationshipId ?? null,
    tenantDomain: event.tenantDomain ?? null,
    actorType: event.actorType,
    actorId: event.actorId ?? null,
    action: event.action,
    fromStatus: event.fromStatus ?? null,
    toStatus: event.toStatus ?? null,
    reason: event.reason ?? null,
    createdAt: event.createdAt ?? new Date(),
    data: storedJson(event.data),
  };
  return { ...link, hash: linkHash(link) };
}

type Link = ReturnType<typeof linkAfter>;

/** A link's row in a VALUES list, cast to the columns' types. */
const rowOf = (l: Link) => Prisma.sql`(${l.idempotencyKey}, ${l.relationshipId}::uuid, ${l.tenantDomain}::text, ${l.actorType}, ${l.actorId}::text, ${l.action},
  ${l.fromStatus}::text, ${l.toStatus}::text, ${l.reason}::text, ${l.data === null ? null : JSON.stringify(l.data)}::jsonb,
  ${utcTimestamp(l.createdAt.toISOString())}, ${l.chain}, ${l.seq.toString()}::bigint, ${l.prevHash}, ${l.hash})`;

/** Appends one event to its chain inside `tx`. */
export async function appendAuditEvent(tx: Tx, event: AuditEventInput): Promise<AppendedLink> {
  const head = await lockHead(tx, event);
  const link = linkAfter({ chain: head.chain, seq: BigInt(head.seq), hash: head.hash }, event);
  // The head moves only when the row goes in (a stored idempotency key inserts nothing).
  const moved = await tx.$executeRaw`
    WITH inserted AS (
      INSERT INTO audit_events (idempotency_key, relationship_id, tenant_domain, actor_type, actor_id, action, from_status, to_status, reason,
                                data, created_at, chain, seq, prev_hash, hash)
      VALUES ${rowOf(link)}
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING chain, seq, hash
    )
    UPDATE audit_chain_heads h SET seq = inserted.seq, hash = inserted.hash, updated_at = now() FROM inserted WHERE h.chain = inserted.chain`;
  return { chain: link.chain, seq: moved === 1 ? link.seq : null };
}

/**
 * Several events of one subject (the same relationship, or the same tenant or service chain),
 * in order, as consecutive links: two statements for all of them, where one at a time takes two
 * each.
 */
export async function appendAuditEvents(tx: Tx, events: AuditEventInput[]): Promise<void> {
  const first = events[0];
  if (!first) return;
  if (events.length === 1) {
    await appendAuditEvent(tx, first);
    return;
  }
  await appendAfterHead(tx, await lockHead(tx, first), events);
}

/**
 * Appends `events` (one subject, in order) after `head`, which this transaction locked, in one
 * statement that also runs the caller's `alongside` writes (CTE bodies: writes that must commit
 * with the events and are idempotent, since a retry runs them again). All events or none go in:
 * when any of their keys is already stored (a retried write), the batch inserts nothing and each
 * event is appended alone, so a stored one is skipped and the rest still chain without a gap.
 */
export async function appendAfterHead(tx: Tx, head: LockedHead, events: AuditEventInput[], alongside: Prisma.Sql[] = []): Promise<void> {
  if (events.length === 0) return;
  const links: Link[] = [];
  let prev = { chain: head.chain, seq: BigInt(head.seq), hash: head.hash };
  for (const event of events) {
    const link = linkAfter(prev, event);
    links.push(link);
    prev = link;
  }
  const keys = links.map((l) => l.idempotencyKey);
  const writes = alongside.map((body, i) => Prisma.sql`${Prisma.raw(`alongside_${i}`)} AS (${body}),`);
  const moved = await tx.$executeRaw`
    WITH ${writes.length > 0 ? Prisma.join(writes, ' ') : Prisma.empty}
    batch (idempotency_key, relationship_id, tenant_domain, actor_type, actor_id, action, from_status, to_status, reason,
                data, created_at, chain, seq, prev_hash, hash) AS (VALUES ${Prisma.join(links.map(rowOf))}),
    inserted AS (
      INSERT INTO audit_events (idempotency_key, relationship_id, tenant_domain, actor_type, actor_id, action, from_status, to_status, reason,
                                data, created_at, chain, seq, prev_hash, hash)
      SELECT * FROM batch WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.idempotency_key IN (${Prisma.join(keys)}))
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING seq
    )
    UPDATE audit_chain_heads h SET seq = ${prev.seq.toString()}::bigint, hash = ${prev.hash}, updated_at = now()
    WHERE h.chain = ${head.chain} AND (SELECT count(*) FROM inserted) = ${links.length}`;
  if (moved === 1) return;
  // None went in (the head is where it was: the batch's rows and its head move commit together or
  // not at all, and writers of one chain take turns on its head, so a batch is never half stored).
  for (const event of events) await appendAuditEvent(tx, event);
}

/** One event in a transaction of its own, for a writer that has nothing else to commit with it. */
export function writeAuditEvent(db: Database, event: AuditEventInput): Promise<AppendedLink> {
  return db.$transaction((tx) => appendAuditEvent(tx, event));
}
