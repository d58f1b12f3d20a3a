import { createHash } from 'node:crypto';

// The audit log as hash chains: what a link is, how it is hashed, how an
// exported chain is checked. Pure (no I/O), so the writer, the export and the
// verify command all use exactly this code, and an auditor can re-implement it
// from the README.
//
// One chain per tenant ("tenant:<domain>") and one for events of no tenant
// ("service"). Each event has its place in its chain (seq 1, 2, 3… without
// gaps) and the hash of the event before it (GENESIS_HASH before the first);
// its own hash covers its fields, its seq and that previous hash. So an edited
// event no longer matches its hash, a deleted one leaves a gap in seq, and
// rewriting either means rewriting every later hash too.

export const GENESIS_HASH = '0'.repeat(64);
export const SERVICE_CHAIN = 'service';
/** Versions the canonical form: a later change to it hashes under another tag. */
const CANONICAL_FORM = 'partnerflow-audit-1';

export type ChainName = `tenant:${string}` | typeof SERVICE_CHAIN;

export const tenantChain = (domain: string): ChainName => `tenant:${domain}`;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The fields of an event its hash covers (everything but the row's database id). */
export interface AuditLinkFields {
  chain: string;
  seq: bigint;
  prevHash: string;
  idempotencyKey: string;
  relationshipId: string | null;
  tenantDomain: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  fromStatus: string | null;
  toStatus: string | null;
  reason: string | null;
  createdAt: Date;
  data: JsonValue | null;
}

/**
 * JSON with object keys sorted (by UTF-16 code units, recursively) and no
 * whitespace: one text per value, whatever order the keys were written or
 * stored in (Postgres's jsonb reorders them).
 */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The digest of an event's data: what its hash covers, so an export may withhold the data and still verify. */
export const dataDigest = (data: JsonValue | null): string => sha256(canonicalJson(data));

/** The event's fields in a fixed order: seq as a decimal string (a bigint), the time as ISO 8601 UTC with milliseconds. */
function canonicalForm(link: Omit<AuditLinkFields, 'data'> & { dataDigest: string }): string {
  return canonicalJson([
    CANONICAL_FORM,
    link.chain,
    link.seq.toString(),
    link.prevHash,
    link.idempotencyKey,
    link.relationshipId,
    link.tenantDomain,
    link.actorType,
    link.actorId,
    link.action,
    link.fromStatus,
    link.toStatus,
    link.reason,
    link.createdAt.toISOString(),
    link.dataDigest,
  ]);
}

export function linkHash(link: AuditLinkFields): string {
  const { data, ...rest } = link;
  return sha256(canonicalForm({ ...rest, dataDigest: dataDigest(data) }));
}

/** One line of an export: an event, its place and its hashes, as text. `dataDigest` replaces `data` where the data is withheld. */
export type ExportedEvent = Omit<AuditLinkFields, 'seq' | 'createdAt' | 'data'> & {
  seq: string;
  id: string;
  createdAt: string;
  data?: JsonValue | null;
  dataDigest?: string;
  hash: string;
};

/** The export's last line: the chain's head when the export began, so a removed last event shows too. */
export interface ExportedHead {
  head: { chain: string; seq: string; hash: string };
}

export function exportedEvent(row: AuditLinkFields & { id: bigint; hash: string }, withholdData: boolean): ExportedEvent {
  return {
    chain: row.chain,
    seq: row.seq.toString(),
    id: row.id.toString(),
    idempotencyKey: row.idempotencyKey,
    relationshipId: row.relationshipId,
    tenantDomain: row.tenantDomain,
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    fromStatus: row.fromStatus,
    toStatus: row.toStatus,
    reason: row.reason,
    createdAt: row.createdAt.toISOString(),
    ...(withholdData ? { dataDigest: dataDigest(row.data) } : { data: row.data }),
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

// ——— verification ———

export type ChainBreakKind = 'unreadable' | 'otherChain' | 'sequenceGap' | 'previousHashMismatch' | 'hashMismatch' | 'headMismatch' | 'headMissing';

export interface ChainBreak {
  kind: ChainBreakKind;
  line: number;
  seq: string | null;
  id: string | null;
  message: string;
}

export interface ChainSummary {
  chain: string | null;
  events: number;
  lastSeq: string;
  lastHash: string;
}

export type VerifyResult = { ok: true; summary: ChainSummary } | { ok: false; broken: ChainBreak };

const HEX64 = /^[0-9a-f]{64}$/;
const nullableText = (v: unknown): v is string | null => v === null || typeof v === 'string';

function readEvent(value: unknown): ExportedEvent | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  for (const key of ['chain', 'seq', 'id', 'idempotencyKey', 'actorType', 'action', 'createdAt', 'prevHash', 'hash'] as const) {
    if (typeof e[key] !== 'string') return `"${key}" is missing or not a string`;
  }
  for (const key of ['relationshipId', 'tenantDomain', 'actorId', 'fromStatus', 'toStatus', 'reason'] as const) {
    if (!nullableText(e[key])) return `"${key}" is missing or neither a string nor null`;
  }
  if (!/^[1-9]\d*$/.test(e.seq as string)) return '"seq" is not a positive whole number';
  if (Number.isNaN(Date.parse(e.createdAt as string))) return '"createdAt" is not a time';
  if ('dataDigest' in e ? typeof e.dataDigest !== 'string' || 'data' in e : !('data' in e)) return 'needs exactly one of "data" and "dataDigest"';
  return e as unknown as ExportedEvent;
}

function recomputedHash(e: ExportedEvent): string {
  const digest = e.dataDigest ?? dataDigest(e.data ?? null);
  const { data: _data, dataDigest: _digest, id: _id, hash: _hash, ...fields } = e;
  return sha256(canonicalForm({ ...fields, seq: BigInt(e.seq), createdAt: new Date(e.createdAt), dataDigest: digest }));
}

/**
 * Checks an export line by line, as it is read (a file of any size), and stops
 * at the first broken link: the first line that does not follow from the ones
 * before it.
 */
export function createChainVerifier() {
  let chain: string | null = null;
  let lastSeq = 0n;
  let lastHash = GENESIS_HASH;
  let events = 0;
  let head: ExportedHead['head'] | null = null;
  let broken: ChainBreak | null = null;
  let lineNumber = 0;

  const fail = (kind: ChainBreakKind, message: string, at?: { seq?: string; id?: string }) => {
    broken = { kind, line: lineNumber, seq: at?.seq ?? null, id: at?.id ?? null, message };
  };

  /** Feeds the next line; false once the chain is broken (later lines are not read). */
  function push(text: string): boolean {
    if (broken) return false;
    lineNumber++;
    if (text.trim() === '') return true;
    if (head) {
      fail('unreadable', 'a line follows the head line, which must be last');
      return false;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      fail('unreadable', 'not JSON');
      return false;
    }
    if (typeof value === 'object' && value !== null && 'head' in value) return checkHead((value as ExportedHead).head);
    const e = readEvent(value);
    if (typeof e === 'string') {
      fail('unreadable', e);
      return false;
    }
    const at = { seq: e.seq, id: e.id };
    chain ??= e.chain;
    if (e.chain !== chain) return (fail('otherChain', `event of chain "${e.chain}" in an export of chain "${chain}"`, at), false);
    const seq = BigInt(e.seq);
    if (seq !== lastSeq + 1n) {
      const why = seq > lastSeq + 1n ? `events ${lastSeq + 1n}${seq - lastSeq > 2n ? `–${seq - 1n}` : ''} are missing` : 'out of order or repeated';
      return (fail('sequenceGap', `gap in sequence: expected seq ${lastSeq + 1n}, found ${seq} (${why})`, at), false);
    }
    if (e.prevHash !== lastHash) {
      const before = lastSeq === 0n ? 'the genesis value (64 zeros)' : `the hash of seq ${lastSeq}`;
      return (fail('previousHashMismatch', `previous-hash mismatch: prevHash is not ${before}`, at), false);
    }
    if (!HEX64.test(e.hash) || recomputedHash(e) !== e.hash) {
      return (fail('hashMismatch', 'hash mismatch: the event\u2019s fields do not hash to its stored hash (changed after it was written)', at), false);
    }
    events++;
    lastSeq = seq;
    lastHash = e.hash;
    return true;
  }

  function checkHead(h: unknown): boolean {
    const ok = typeof h === 'object' && h !== null && ['chain', 'seq', 'hash'].every((k) => typeof (h as Record<string, unknown>)[k] === 'string');
    if (!ok) return (fail('unreadable', 'the head line needs "chain", "seq" and "hash"'), false);
    head = h as ExportedHead['head'];
    if (chain !== null && head.chain !== chain) return (fail('headMismatch', `the head is of chain "${head.chain}", the events of "${chain}"`), false);
    if (head.seq !== lastSeq.toString() || head.hash !== lastHash) {
      return (fail('headMismatch', `the chain's head is seq ${head.seq} but the last event is seq ${lastSeq} (events at the end are missing or changed)`), false);
    }
    return true;
  }

  function result(): VerifyResult {
    if (broken) return { ok: false, broken };
    // Every export ends with its head; without it a cut-off file (or one whose last events were dropped) would pass.
    if (!head) return { ok: false, broken: { kind: 'headMissing', line: lineNumber, seq: null, id: null, message: 'the export ends without its head line (cut off?)' } };
    return { ok: true, summary: { chain: chain ?? head.chain, events, lastSeq: lastSeq.toString(), lastHash } };
  }

  return { push, result };
}

/** Verifies a whole export held in memory (tests; the CLI streams through createChainVerifier). */
export function verifyExport(text: string): VerifyResult {
  const verifier = createChainVerifier();
  for (const line of text.split('\n')) if (!verifier.push(line)) break;
  return verifier.result();
}
