import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  dataDigest,
  exportedEvent,
  GENESIS_HASH,
  linkHash,
  verifyExport,
  type AuditLinkFields,
  type ExportedEvent,
  type JsonValue,
} from '../../src/audit/auditChain.js';

// The canonical form and the verifier, without a database: a chain built here
// the way src/audit/auditLog.ts builds it, then broken in each way it can be.

function chainOf(count: number, chain = 'tenant:contoso.com'): ExportedEvent[] {
  const events: ExportedEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 1; i <= count; i++) {
    const fields: AuditLinkFields = {
      chain,
      seq: BigInt(i),
      prevHash,
      idempotencyKey: `relationship-x-transition-${i}`,
      relationshipId: '6f1c8a52-1f7e-4d7a-9a44-0d2c1b7e5a10',
      tenantDomain: null,
      actorType: 'customer',
      actorId: 'admin@contoso.com',
      action: `relationship.step${i}`,
      fromStatus: 'invited',
      toStatus: 'accepted',
      reason: i === 2 ? 'because' : null,
      createdAt: new Date(Date.UTC(2026, 11, 2, 18, 0, i, 7)),
      data: { round: i, nested: { b: 1, a: [1, 'two', null] } },
    };
    const hash = linkHash(fields);
    events.push(exportedEvent({ ...fields, id: BigInt(100 + i), hash }, false));
    prevHash = hash;
  }
  return events;
}

const lines = (events: object[]) => `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
const withHead = (events: ExportedEvent[]) => {
  const last = events.at(-1);
  return lines([...events, { head: { chain: events[0]?.chain ?? 'service', seq: last?.seq ?? '0', hash: last?.hash ?? GENESIS_HASH } }]);
};

describe('canonical JSON', () => {
  it('is the same text whatever order the keys came in, nested too', () => {
    const a: JsonValue = { b: 1, a: { y: [1, { d: 2, c: 3 }], x: 'é' } };
    const b: JsonValue = { a: { x: 'é', y: [1, { c: 3, d: 2 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"é","y":[1,{"c":3,"d":2}]},"b":1}');
  });

  it('keeps array order and tells null from a missing key', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
    expect(dataDigest({ a: null })).not.toBe(dataDigest({}));
    expect(dataDigest(null)).not.toBe(dataDigest({}));
  });
});

describe('link hash', () => {
  const base = chainOf(1)[0] as ExportedEvent;
  const fields = (): AuditLinkFields => ({
    ...base,
    seq: 1n,
    createdAt: new Date(base.createdAt),
    data: base.data ?? null,
  });

  it('changes with every field it covers', () => {
    const original = linkHash(fields());
    const changed: Partial<AuditLinkFields>[] = [
      { chain: 'tenant:other.com' },
      { seq: 2n },
      { prevHash: 'f'.repeat(64) },
      { idempotencyKey: 'other' },
      { relationshipId: null },
      { tenantDomain: 'contoso.com' },
      { actorType: 'partner' },
      { actorId: null },
      { action: 'relationship.other' },
      { fromStatus: null },
      { toStatus: 'declined' },
      { reason: 'edited' },
      { createdAt: new Date(new Date(base.createdAt).getTime() + 1) },
      { data: { round: 2 } },
    ];
    for (const change of changed) expect(linkHash({ ...fields(), ...change }), Object.keys(change).join()).not.toBe(original);
  });

  it('reads the time to the millisecond as ISO 8601 UTC and a seq beyond 2^53 exactly', () => {
    expect(linkHash({ ...fields(), seq: 9007199254740993n })).not.toBe(linkHash({ ...fields(), seq: 9007199254740992n }));
    expect(linkHash(fields())).toBe(linkHash({ ...fields(), data: { nested: { a: [1, 'two', null], b: 1 }, round: 1 } }));
  });
});

describe('verifyExport', () => {
  it('passes an intact chain and sums it up', () => {
    const events = chainOf(4);
    const result = verifyExport(withHead(events));
    expect(result).toEqual({ ok: true, summary: { chain: 'tenant:contoso.com', events: 4, lastSeq: '4', lastHash: events[3]?.hash } });
  });

  it('passes an empty chain with its head', () => {
    expect(verifyExport(lines([{ head: { chain: 'service', seq: '0', hash: GENESIS_HASH } }]))).toMatchObject({ ok: true, summary: { events: 0 } });
  });

  it('passes an event whose data is withheld as a digest', () => {
    const events = chainOf(3);
    const second = events[1] as ExportedEvent;
    const { data, ...rest } = second;
    events[1] = { ...rest, dataDigest: dataDigest(data ?? null) };
    expect(verifyExport(withHead(events)).ok).toBe(true);
  });

  it('names an edited event: hash mismatch at its line', () => {
    const events = chainOf(4);
    events[2] = { ...(events[2] as ExportedEvent), reason: 'rewritten' };
    expect(verifyExport(withHead(events))).toEqual({
      ok: false,
      broken: { kind: 'hashMismatch', line: 3, seq: '3', id: '103', message: expect.stringContaining('hash mismatch') as string },
    });
  });

  it('catches edited data, and a digest that does not match the data it stands for', () => {
    const events = chainOf(3);
    events[0] = { ...(events[0] as ExportedEvent), data: { round: 99 } };
    expect(verifyExport(withHead(events))).toMatchObject({ ok: false, broken: { kind: 'hashMismatch', line: 1 } });
    const again = chainOf(3);
    const { data: _data, ...rest } = again[1] as ExportedEvent;
    again[1] = { ...rest, dataDigest: dataDigest({ round: 99 }) };
    expect(verifyExport(withHead(again))).toMatchObject({ ok: false, broken: { kind: 'hashMismatch', line: 2 } });
  });

  it('names a deleted event: a gap in sequence at the line after it', () => {
    const events = chainOf(5);
    events.splice(2, 1);
    expect(verifyExport(withHead(events))).toMatchObject({ ok: false, broken: { kind: 'sequenceGap', line: 3, seq: '4', message: expect.stringContaining('expected seq 3, found 4') as string } });
  });

  it('refuses an export cut off before its head line', () => {
    expect(verifyExport(lines(chainOf(3)))).toMatchObject({ ok: false, broken: { kind: 'headMissing', line: 4 } });
  });

  it('names a deleted first event, and a removed last one through the head line', () => {
    const events = chainOf(3);
    expect(verifyExport(withHead(events.slice(1)))).toMatchObject({ ok: false, broken: { kind: 'sequenceGap', line: 1 } });
    const head = { head: { chain: 'tenant:contoso.com', seq: '3', hash: events[2]?.hash } };
    expect(verifyExport(lines([...events.slice(0, 2), head]))).toMatchObject({ ok: false, broken: { kind: 'headMismatch', line: 3 } });
  });

  it('names a re-hashed event: its successor no longer points at it', () => {
    // An attacker who edits a row and recomputes its hash still breaks the next link.
    const events = chainOf(3);
    const edited = { ...(events[1] as ExportedEvent), reason: 'rewritten' };
    const rehashed: AuditLinkFields = { ...edited, seq: 2n, createdAt: new Date(edited.createdAt), data: edited.data ?? null };
    events[1] = { ...edited, hash: linkHash(rehashed) };
    expect(verifyExport(withHead(events))).toMatchObject({ ok: false, broken: { kind: 'previousHashMismatch', line: 3, seq: '3' } });
  });

  it('refuses events of two chains, unreadable lines and an empty file', () => {
    const mixed = [...chainOf(2), ...chainOf(3, 'tenant:other.com').slice(2)];
    expect(verifyExport(withHead(mixed))).toMatchObject({ ok: false, broken: { kind: 'otherChain', line: 3 } });
    expect(verifyExport(`${JSON.stringify(chainOf(1)[0])}\nnot json\n`)).toMatchObject({ ok: false, broken: { kind: 'unreadable', line: 2 } });
    expect(verifyExport('{"seq":"1"}')).toMatchObject({ ok: false, broken: { kind: 'unreadable', line: 1 } });
    expect(verifyExport('')).toMatchObject({ ok: false, broken: { kind: 'headMissing' } });
  });
});
