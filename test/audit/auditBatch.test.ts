import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { tenantChain, verifyExport } from '../../src/audit/auditChain.js';
import { createAuditExport } from '../../src/audit/auditExport.js';
import { appendAuditEvent, appendAuditEvents, type AuditEventInput } from '../../src/audit/auditLog.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';

// Several events appended as one batch (the transitions of one write) must
// make the same chain as appending them one by one: consecutive links, the
// head on the last, the export verifying; and a batch whose events are partly
// stored already (a retry across versions) must not break it.

const db = new PrismaClient({ adapter: new PrismaPg(new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 })) });
afterAll(() => db.$disconnect());

const domain = () => `batch-${randomUUID().slice(0, 8)}.audit.example`;
const event = (tenantDomain: string, n: number): AuditEventInput => ({
  idempotencyKey: `${tenantDomain}-${n}`,
  tenantDomain,
  actorType: 'operator',
  action: 'tenant.adminAdded',
  data: { n },
});

async function exported(tenantDomain: string) {
  let text = '';
  for await (const line of createAuditExport(db).lines(tenantChain(tenantDomain), 'operator')) text += `${line}\n`;
  const events = text.trim().split('\n').map((l) => JSON.parse(l) as { seq?: string; idempotencyKey?: string });
  return { verified: verifyExport(text), keys: events.flatMap((e) => (e.idempotencyKey ? [e.idempotencyKey] : [])), seqs: events.flatMap((e) => (e.seq ? [e.seq] : [])) };
}

describe('appending audit events as a batch', () => {
  it('chains them in order after what is there', async () => {
    const tenant = domain();
    await db.$transaction((tx) => appendAuditEvent(tx, event(tenant, 1)));
    await db.$transaction((tx) => appendAuditEvents(tx, [event(tenant, 2), event(tenant, 3), event(tenant, 4)]));
    const chain = await exported(tenant);
    expect(chain.verified.ok, JSON.stringify(chain.verified)).toBe(true);
    expect(chain.keys).toEqual([1, 2, 3, 4].map((n) => `${tenant}-${n}`));
    expect(chain.seqs).toEqual(['1', '2', '3', '4']);
  });

  it('a retried batch adds nothing, and one partly stored already appends only the rest, without a gap', async () => {
    const tenant = domain();
    await db.$transaction((tx) => appendAuditEvents(tx, [event(tenant, 1), event(tenant, 2)]));
    await db.$transaction((tx) => appendAuditEvents(tx, [event(tenant, 1), event(tenant, 2)]));
    // The first of the next batch was written alone before (a write of an older version).
    await db.$transaction((tx) => appendAuditEvent(tx, event(tenant, 3)));
    await db.$transaction((tx) => appendAuditEvents(tx, [event(tenant, 3), event(tenant, 4)]));
    const chain = await exported(tenant);
    expect(chain.verified.ok, JSON.stringify(chain.verified)).toBe(true);
    expect(chain.keys).toEqual([1, 2, 3, 4].map((n) => `${tenant}-${n}`));
    expect(chain.seqs).toEqual(['1', '2', '3', '4']);
  });
});
