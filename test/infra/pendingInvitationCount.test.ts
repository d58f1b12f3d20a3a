import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { paths, runMigrations } from '../../src/infra/migrationRunner.js';
import { hourOf } from '../../src/infra/hourlyQuota.js';
import { insertOfferWithinLimits, refusalOf, type OfferRow } from '../../src/relationships/offerInsert.js';
import { createPartnerMailQuota } from '../../src/relationships/partnerMailQuota.js';
import { createPendingInvitationCap } from '../../src/relationships/pendingInvitationCap.js';
import { waitFor } from '../support/waitFor.js';
import { databaseUrlFor, dropDatabase, maintenanceUrl, query, uniqueDatabaseName } from '../support/scratchDatabases.js';

// The pending-invitation cap and the partner mail quota without Redis (issue 13): the counts on
// the partner's row (pending ones kept by triggers), checked and charged by the offer's insert
// under the row's lock in the same statement.

const RACERS = 16;
const APPLICATION = `pending-count-${process.pid}`;
const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: RACERS + 2, application_name: APPLICATION });
const db = new PrismaClient({ adapter: new PrismaPg(pool) });
const scratch: string[] = [];

afterAll(async () => {
  await db.$disconnect();
  await pool.end();
  for (const name of scratch) await dropDatabase(name);
});

const newPartner = () => db.partner.create({ data: { name: 'Count Partner', contactEmail: 'ops@count.example', webhookSecret: 'not-used' } });
const limitsOf = (maxPending: number, mailPerHour = 1000) => ({
  pending: createPendingInvitationCap({ db, max: maxPending }),
  mail: createPartnerMailQuota({ db, perHour: mailPerHour }),
});
const insert = (limits: ReturnType<typeof limitsOf>, row: OfferRow, hour = hourOf(Date.now())) => insertOfferWithinLimits(db, limits, row, hour);
const pendingOf = async (partnerId: string) => (await db.partner.findUniqueOrThrow({ where: { id: partnerId } })).pendingInvitations;

function offerRow(partnerId: string): OfferRow {
  const id = randomUUID();
  return {
    id,
    workflowId: `relationship-${id}`,
    partnerId,
    tenantDomain: `t-${id.slice(0, 8)}.count.example`,
    contactEmail: 'admin@count.example',
    contactName: null,
    roles: ['user-administrator'],
    terms: null,
    autoExtend: false,
    policy: { invitationTtlMs: 3_600_000 },
    trialOffer: { offer: 'pro', seats: 5, days: 30 },
    liveKey: id,
    invitationExpiresAt: new Date(Date.now() + 3_600_000),
  };
}

describe('pending invitations counted by the database', () => {
  it('follows every way a relationship enters or leaves invited: insert, answer, move, delete', async () => {
    const [a, b] = [await newPartner(), await newPartner()];
    const limits = limitsOf(100);
    const first = offerRow(a.id);
    const second = offerRow(a.id);
    await insert(limits, first);
    await insert(limits, second);
    expect(await pendingOf(a.id)).toBe(2);

    // Rewritten as invited (the workflow's `invited` transition): still one.
    await db.relationship.update({ where: { id: first.id }, data: { status: 'invited', version: 1 } });
    expect(await pendingOf(a.id)).toBe(2);
    await db.relationship.update({ where: { id: first.id }, data: { status: 'accepted' } });
    expect(await pendingOf(a.id)).toBe(1);
    // Back to invited is not a path the workflow takes, but the count would still be right.
    await db.relationship.update({ where: { id: first.id }, data: { status: 'invited' } });
    expect(await pendingOf(a.id)).toBe(2);
    await db.relationship.update({ where: { id: first.id }, data: { partnerId: b.id } });
    expect([await pendingOf(a.id), await pendingOf(b.id)]).toEqual([1, 1]);
    // An offer whose workflow could not start is deleted.
    await db.relationship.delete({ where: { id: second.id } });
    expect(await pendingOf(a.id)).toBe(0);
    await db.relationship.update({ where: { id: first.id }, data: { status: 'withdrawn' } });
    expect(await pendingOf(b.id)).toBe(0);
  });

  it('reads back what the model API reads', async () => {
    const partner = await newPartner();
    const row = offerRow(partner.id);
    const inserted = await insert(limitsOf(1), row);
    expect(inserted).toEqual(await db.relationship.findUniqueOrThrow({ where: { id: row.id } }));
    expect(inserted?.invitationExpiresAt).toEqual(row.invitationExpiresAt);
  });

  /** Starts `offers` inserts while the partner's row is locked elsewhere, lets go when all of them wait on it, returns how many got in. */
  async function raceOnTheRow(partnerId: string, limits: ReturnType<typeof limitsOf>, offers: number, hour = hourOf(Date.now())): Promise<number> {
    // Every offer is made to wait on the partner's row, so all of them are in flight together
    // when it is let go: a limit holds only if each one re-checks it after the wait.
    const holder = new pg.Client({ connectionString: inject('databaseUrl') });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM partners WHERE id = $1 FOR UPDATE', [partnerId]);
      const racing = Promise.all(Array.from({ length: offers }, () => insert(limits, offerRow(partnerId), hour)));
      await waitFor(async () => {
        // Its own connection: inside the holder's transaction pg_stat_activity would not change.
        const [row] = await query<{ n: number }>(inject('databaseUrl'), `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = '${APPLICATION}' AND wait_event_type = 'Lock'`);
        return (row?.n ?? 0) >= offers;
      }, { what: 'every offer waiting on the partner row' });
      await holder.query('COMMIT');
      return (await racing).filter((r) => r !== null).length;
    } finally {
      await holder.end();
    }
  }

  it('lets exactly the cap through when many offers race (the attack: burst past the limit)', async () => {
    const partner = await newPartner();
    const limits = limitsOf(3);
    expect(await raceOnTheRow(partner.id, limits, RACERS)).toBe(3);
    expect(await db.relationship.count({ where: { partnerId: partner.id } })).toBe(3);
    expect(await pendingOf(partner.id)).toBe(3);
    const refusal = await refusalOf(db, limits, partner.id, hourOf(Date.now()));
    expect(refusal.code).toBe('pendingInvitationLimit');
    expect(refusal.extras).toMatchObject({ limit: 3, pending: 3 });
  });

  it("lets exactly the partner's emails for the hour through when offers race, and charges none it refuses", async () => {
    const partner = await newPartner();
    const limits = limitsOf(100, 4);
    const hour = hourOf(Date.now());
    expect(await raceOnTheRow(partner.id, limits, RACERS, hour)).toBe(4);
    const row = await db.partner.findUniqueOrThrow({ where: { id: partner.id } });
    expect(row).toMatchObject({ mailHour: hour, mailSent: 4, pendingInvitations: 4 });
    expect((await refusalOf(db, limits, partner.id, hour)).code).toBe('partnerMailQuota');
    // A new hour starts the count again; a process whose clock is still in the last hour charges the new one.
    expect(await insert(limits, offerRow(partner.id), hour + 1)).not.toBeNull();
    expect(await db.partner.findUniqueOrThrow({ where: { id: partner.id } })).toMatchObject({ mailHour: hour + 1, mailSent: 1 });
    expect(await insert(limits, offerRow(partner.id), hour)).not.toBeNull();
    expect(await db.partner.findUniqueOrThrow({ where: { id: partner.id } })).toMatchObject({ mailHour: hour + 1, mailSent: 2 });
    await insert(limitsOf(100, 2), offerRow(partner.id), hour).then((refused) => expect(refused).toBeNull());
  });
});

describe('the migration that adds the count', { timeout: 60_000 }, () => {
  it('counts the invitations already waiting', async () => {
    const name = uniqueDatabaseName('pending');
    scratch.push(name);
    await query(maintenanceUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    const url = databaseUrlFor(name);
    const all = (await readdir(paths.migrations, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const adding = all.indexOf('20261203160000_pending_invitation_count');
    expect(adding).toBeGreaterThan(0);
    const dir = await mkdtemp(path.join(tmpdir(), 'partnerflow-pending-'));
    try {
      for (const m of all.slice(0, adding)) await cp(path.join(paths.migrations, m), path.join(dir, m), { recursive: true });
      await runMigrations(url, { migrationsDir: dir });
      const partner = randomUUID();
      await query(url, `INSERT INTO partners (id, name, contact_email, webhook_secret) VALUES ('${partner}', 'Old', 'ops@old.example', 'x')`);
      for (const status of ['invited', 'invited', 'active', 'declined']) {
        const id = randomUUID();
        await query(
          url,
          `INSERT INTO relationships (id, workflow_id, partner_id, tenant_domain, contact_email, status, roles, policy, updated_at)
           VALUES ('${id}', 'relationship-${id}', '${partner}', 'old.example', 'a@old.example', '${status}', '{}', '{}', now())`,
        );
      }
      await cp(path.join(paths.migrations, all[adding] ?? ''), path.join(dir, all[adding] ?? ''), { recursive: true });
      expect(await runMigrations(url, { migrationsDir: dir })).toEqual({ applied: ['20261203160000_pending_invitation_count'] });
      expect(await query<{ pending_invitations: number }>(url, `SELECT pending_invitations FROM partners WHERE id = '${partner}'`)).toEqual([{ pending_invitations: 2 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
