import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createReadModelActivities } from '../../src/activities/readModel.js';
import type { RecordTransitionsInput, Transition } from '../../src/contract/relationship.js';
import { countingDatabase, listed } from '../support/countingDatabase.js';

// What the customer's Yes costs the read model: issue 13 asks for few SQL
// statements per onboarding, and this write sits between the accept and
// `active`. The statements are counted on a pool of this test's own, so no
// other file's traffic is in the count. Before the write was batched, the
// same two transitions took 13 statements (a row update, two audit statements
// and a webhook lookup each, a relationship read for the grants), 9 with the
// row written once, 7 with the audit events appended together, and 4 with the
// audit head locked in the row's statement and the links and grants written in
// the audit's.

const { db, statementsOf, close } = countingDatabase();
// No partner here has a webhook URL: nothing is staged or handed over.
const readModel = createReadModelActivities(db, { stageTransitions: () => Promise.resolve([]), handOver: () => Promise.resolve(true) });

afterAll(close);

async function invitedRelationship() {
  const partner = await db.partner.create({ data: { name: 'Statements Partner', contactEmail: 'ops@statements.example', webhookSecret: 'not-used' } });
  const id = randomUUID();
  await db.relationship.create({
    data: {
      id,
      workflowId: `relationship-${id}`,
      partnerId: partner.id,
      tenantDomain: `t-${id.slice(0, 8)}.statements.example`,
      contactEmail: 'admin@statements.example',
      status: 'invited',
      roles: ['user-administrator', 'license-administrator'],
      policy: {},
      liveKey: id,
      invitationExpiresAt: new Date(Date.now() + 3_600_000),
    },
  });
  await db.invitation.create({
    data: { relationshipId: id, idempotencyKey: `relationship-${id}-invitation-1`, tokenHash: `hash-${id}`, recipientEmail: 'admin@statements.example', expiresAt: new Date(Date.now() + 3_600_000) },
  });
  return id;
}

function acceptedAndActive(id: string): RecordTransitionsInput {
  const at = new Date().toISOString();
  const customer = { type: 'customer' as const, id: 'admin@statements.example' };
  const transitions: Transition[] = [
    { seq: 2, from: 'invited', to: 'accepted', at, actor: customer },
    { seq: 3, from: 'accepted', to: 'active', at, actor: { type: 'system' } },
  ];
  const endsAt = new Date(Date.now() + 86_400_000).toISOString();
  return {
    workflowId: `relationship-${id}`,
    relationshipId: id,
    transitions,
    snapshot: { status: 'active', invitationExpiresAt: at, acceptedAt: at, activatedAt: at, endsAt, endedAt: null, autoExtend: false },
  };
}

describe('the read-model write of a Yes (accepted and active together)', () => {
  it('takes at most 4 statements, grants included, and a retry changes nothing', async () => {
    const id = await invitedRelationship();
    const input = acceptedAndActive(id);

    const { statements } = await statementsOf(() => readModel.recordTransitions(input));
    // BEGIN, the row update with the audit chain's head, both events with the links used up and the grants, COMMIT.
    expect(statements.length, listed(statements)).toBeLessThanOrEqual(4);
    const row = await db.relationship.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe('active');
    expect(row.version).toBe(3);
    // Written in SQL of its own: the dates read back as the workflow gave them (UTC), the live key kept.
    expect(row.acceptedAt?.toISOString()).toBe(input.snapshot.acceptedAt);
    expect(row.endsAt?.toISOString()).toBe(input.snapshot.endsAt);
    expect(row.endedAt).toBeNull();
    expect(row.liveKey).toBe(id);
    const grants = await db.roleGrant.findMany({ where: { relationshipId: id } });
    expect(grants.map((g) => g.role).sort()).toEqual(['license-administrator', 'user-administrator']);
    expect(await db.auditEvent.count({ where: { relationshipId: id } })).toBe(2);
    const [link] = await db.invitation.findMany({ where: { relationshipId: id } });
    expect(link?.usedAt?.toISOString()).toBe(input.transitions[0]?.at);
    expect(link?.revokedAt).toBeNull();

    // The activity retried after its commit: same rows, no second link in the audit chain.
    await readModel.recordTransitions(input);
    expect(await db.roleGrant.count({ where: { relationshipId: id } })).toBe(2);
    expect(await db.auditEvent.count({ where: { relationshipId: id } })).toBe(2);
  });
});

describe('the read-model write of a Yes and an end decided before it was written', () => {
  it('gives the grants and revokes them in the same write: the access check never sees them live', async () => {
    const id = await invitedRelationship();
    const yes = acceptedAndActive(id);
    const at = new Date().toISOString();
    const input: RecordTransitionsInput = {
      ...yes,
      transitions: [...yes.transitions, { seq: 4, from: 'active', to: 'terminated', at, actor: { type: 'partner', id: 'p' } }],
      snapshot: { ...yes.snapshot, status: 'terminated', endedAt: at },
    };
    await readModel.recordTransitions(input);
    const grants = await db.roleGrant.findMany({ where: { relationshipId: id } });
    expect(grants).toHaveLength(2);
    expect(grants.filter((g) => g.revokedAt === null), 'grants left live on an ended relationship').toEqual([]);
    expect(grants.every((g) => g.revokedAt?.toISOString() === at)).toBe(true);
    const row = await db.relationship.findUniqueOrThrow({ where: { id } });
    expect([row.status, row.liveKey]).toEqual(['terminated', null]);
  });
});
