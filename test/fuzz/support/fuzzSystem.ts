import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import pg from 'pg';
import { inject } from 'vitest';
import { getStateQuery } from '../../../src/contract/messages.js';
import { relationshipWorkflowId } from '../../../src/contract/relationship.js';
import { ensureDatabase, runMigrations } from '../../../src/infra/migrationRunner.js';
import { startTestDnsServer, type TestDnsServer } from '../../support/dnsServer.js';
import { apiClient, getPage, postForm } from '../../support/http.js';
import { answer, csrfIn, linkIn, waitForStatus, type Partner } from '../../support/relationshipDriver.js';
import { askSignIn, signIn } from '../../support/tenantDriver.js';
import { startTestSystem, type TestSystem } from '../../support/testSystem.js';
import { waitFor } from '../../support/waitFor.js';

// The system the fuzz suite attacks, with a database of its own: other test
// files run in parallel on the run's shared database, and "a refused request
// changed nothing" can only be checked exactly when every row in the database
// is this file's. Temporal is shared (the seeded workflows are queried by id);
// Redis is shared but every key and queue lives under this system's prefix.

export interface FuzzSystem {
  system: TestSystem;
  seeds: Seeds;
  /** Every secret the server holds; none may ever appear in a response. */
  secrets: () => string[];
  ensureSeeds(): Promise<void>;
  /** The last recorded write, the queues' job totals, and the state of the seeded workflows named. */
  snapshot(relationships?: readonly SeededName[]): Promise<Snapshot>;
  /** The writes recorded after `lastWrite` (at most 20), one line each. */
  writesSince(lastWrite: number): Promise<string[]>;
  /** Waits until the database and queues stop changing (after a request that legitimately changed something). */
  settle(since?: Snapshot, maxMs?: number): Promise<void>;
  stop(): Promise<void>;
}

interface SeededRelationship {
  id: string;
  handle: WorkflowHandle;
  /** The invitation link's token, for relationships still invited. */
  token: string;
}

export interface Seeds {
  operatorToken: string;
  partnerA: { id: string; key: string; api: Partner['api'] };
  partnerB: { id: string; key: string; api: Partner['api'] };
  /** Registered tenant whose admin the suite is signed in as. */
  tenantS: { domain: string; admin: string };
  /** Another registered tenant (the operator fuzz may overwrite it). */
  tenantO: { domain: string; admin: string };
  unregisteredDomain: string;
  relInvited: SeededRelationship;
  relActive: SeededRelationship;
  relOther: SeededRelationship;
  relContact: SeededRelationship;
  relUnregistered: SeededRelationship;
  session: { jar: Map<string, string>; csrf: string; cookie: string };
  challengeToken: string;
  adminInviteToken: string;
  signInToken: string;
}

export const seededNames = ['relInvited', 'relActive', 'relOther', 'relContact', 'relUnregistered'] as const;
export type SeededName = (typeof seededNames)[number];

export interface Snapshot {
  lastWrite: number;
  /** Invitation emails charged to the partners' mail quota (the row recorder ignores those columns: a resend charges first and gives back if refused). */
  mailCharged: number;
  queues: Record<string, number>;
  workflows: Record<string, string>;
}

const hex = (n = 3) => randomBytes(n).toString('hex');

export async function startFuzzSystem(): Promise<FuzzSystem> {
  const shared = new URL(inject('databaseUrl'));
  const databaseUrl = new URL(shared.toString());
  databaseUrl.pathname = `${shared.pathname}_fuzz_${hex(4)}`;
  await ensureDatabase(databaseUrl.toString());
  await runMigrations(databaseUrl.toString());
  const db = new pg.Client({ connectionString: databaseUrl.toString() });
  await db.connect();
  await recordEveryWrite(db);
  const dns: TestDnsServer = await startTestDnsServer();

  const system = await startTestSystem('fuzz', {
    env: {
      DATABASE_URL: databaseUrl.toString(),
      // The suite provokes errors by the thousand; TEST_LOG_LEVEL=error shows what the server logs about them.
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
      DNS_SERVERS: dns.servers.join(','),
      // Limits are tested elsewhere; here they must not turn every case into a 429.
      PARTNER_RATE_LIMIT_POINTS: '1000000',
      PARTNER_MAX_PENDING_INVITATIONS: '100000',
      SIGN_IN_EMAILS_PER_HOUR: '100000',
      SIGN_IN_ATTEMPTS_PER_CLIENT: '100000',
      AUTH_FAILURE_LIMIT: '100000',
      PARTNER_MAIL_PER_HOUR: '100000',
      RECIPIENT_MAIL_PER_HOUR: '100000',
      MAIL_RATE_PER_SECOND: '1000',
      RESENDS_PER_INVITATION: '100',
      AUTO_EXTEND_CHANGES_PER_RELATIONSHIP: '1000',
    },
  });

  const operator = apiClient(system.baseUrl, system.operatorToken);
  const newPartner = async (label: string) => {
    const created = await operator.post('/api/v1/admin/partners', { name: `Fuzz partner ${label}`, contactEmail: `ops@${label}-${hex()}.partner.example` });
    if (created.status !== 201) throw new Error(`seed partner: ${created.status} ${created.text}`);
    const key = String(created.json.apiKey);
    return { id: String(created.json.id), key, api: apiClient(system.baseUrl, key) };
  };
  const register = async (domain: string, admins: string[]) => {
    const res = await operator.put(`/api/v1/admin/tenants/${domain}`, { name: `Fuzz tenant ${domain.split('.')[0]}`, admins });
    if (res.status !== 200 && res.status !== 201) throw new Error(`seed tenant ${domain}: ${res.status} ${res.text}`);
  };

  /** Runs `action`, then returns the link to `path` in the next email to `address`. */
  async function linkFromNextMail(address: string, path: string, action: () => Promise<unknown>): Promise<string> {
    const seen = new Set(system.smtp.messages);
    await action();
    const mail = await waitFor(
      () => system.smtp.messages.find((m) => !seen.has(m) && m.to.includes(address) && (m.parsed.html || m.parsed.text || '').includes(`${path}/`)),
      { what: `an email to ${address} with a ${path} link`, timeoutMs: 30_000 },
    );
    return linkIn(mail.parsed.html || mail.parsed.text || '', path);
  }
  const tokenOf = (link: string) => link.slice(link.lastIndexOf('/') + 1);

  async function offerTo(partner: Seeds['partnerA'], tenantDomain: string, contact: string, roles: string[]): Promise<SeededRelationship> {
    let id = '';
    const link = await linkFromNextMail(contact, '/invitations', async () => {
      const res = await partner.api.post('/api/v1/relationships', { customer: { tenantDomain, adminEmail: contact, name: 'Fuzz customer' }, roles });
      if (res.status !== 201) throw new Error(`seed offer to ${tenantDomain}: ${res.status} ${res.text}`);
      id = String(res.json.id);
    });
    return { id, handle: system.temporal.workflow.getHandle(relationshipWorkflowId(id)), token: tokenOf(link) };
  }

  const partnerA = await newPartner('a');
  const partnerB = await newPartner('b');
  const tenantS = { domain: `fz-s-${hex()}.example.com`, admin: '' };
  tenantS.admin = `admin@${tenantS.domain}`;
  const tenantO = { domain: `fz-o-${hex()}.example.com`, admin: '' };
  tenantO.admin = `admin@${tenantO.domain}`;
  await register(tenantS.domain, [tenantS.admin]);
  await register(tenantO.domain, [tenantO.admin]);
  const unregisteredDomain = `fz-u-${hex()}.example.com`;

  async function activeIn(domain: string, admin: string): Promise<SeededRelationship> {
    const rel = await offerTo(partnerA, domain, admin, ['user-administrator']);
    const accepted = await answer(`${system.baseUrl}/invitations/${rel.token}`, { yes: true });
    if (accepted.status !== 200) throw new Error(`seed accept: ${accepted.status} ${accepted.text.slice(0, 300)}`);
    await waitForStatus({ id: partnerA.id, name: '', contactEmail: '', api: partnerA.api }, rel.id, 'active');
    return rel;
  }

  async function newSession(): Promise<Seeds['session']> {
    const jar = await signIn(system, tenantS.domain, tenantS.admin);
    const page = await getPage(`${system.baseUrl}/partner-relationships`, jar);
    const csrf = csrfIn(page.text);
    if (!csrf) throw new Error(`seed session: no csrf on ${page.status} ${page.text.slice(0, 300)}`);
    return { jar, csrf, cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  const [relInvited, relOther, relContact, relUnregistered] = await Promise.all([
    offerTo(partnerA, tenantS.domain, tenantS.admin, ['reports-reader']),
    offerTo(partnerB, tenantO.domain, tenantO.admin, ['user-administrator']),
    offerTo(partnerA, tenantS.domain, `contact@${tenantS.domain}`, ['security-reader']),
    offerTo(partnerA, unregisteredDomain, `someone@${unregisteredDomain}`, ['user-administrator']),
  ]);
  const relActive = await activeIn(tenantS.domain, tenantS.admin);
  const session = await newSession();
  const challengeDomain = `fz-c-${hex()}.example.com`;
  const challengeLink = await linkFromNextMail(`me@${challengeDomain}`, '/tenants/verify', () =>
    postForm(`${system.baseUrl}/tenants/new`, { tenantDomain: challengeDomain, name: 'Fuzz self-service', email: `me@${challengeDomain}` }),
  );
  const invitee = `second-${hex()}@${tenantS.domain}`;
  const adminInviteLink = await linkFromNextMail(invitee, '/tenant-admins/confirm', () =>
    postForm(`${system.baseUrl}/tenant-admins`, { email: invitee, csrf: session.csrf }, new Map(session.jar)),
  );
  const signInLink = await linkFromNextMail(tenantS.admin, '/sign-in', () => askSignIn(system, tenantS.domain, tenantS.admin));

  const seeds: Seeds = {
    operatorToken: system.operatorToken,
    partnerA,
    partnerB,
    tenantS,
    tenantO,
    unregisteredDomain,
    relInvited,
    relActive,
    relOther,
    relContact,
    relUnregistered,
    session,
    challengeToken: tokenOf(challengeLink),
    adminInviteToken: tokenOf(adminInviteLink),
    signInToken: tokenOf(signInLink),
  };

  const invitationOpens = async (token: string) => (await getPage(`${system.baseUrl}/invitations/${token}`)).status === 200;
  const statusOf = async (rel: SeededRelationship) => (await rel.handle.query(getStateQuery)).status;

  // Valid cases may legitimately answer, withdraw, resend or remove a seeded relationship, or
  // rewrite a tenant's admins; each property starts again from the full set of states.
  async function ensureSeeds(): Promise<void> {
    // A valid operator case may pause a seeded partner, or rotate or revoke its key (they take any
    // partner id they find): each property starts with the partners unpaused and a fresh key.
    for (const partner of [partnerA, partnerB]) {
      const resumed = await operator.post(`/api/v1/admin/partners/${partner.id}/resume`, { reason: 'fuzz seeds start unpaused' });
      if (resumed.status !== 200) throw new Error(`seed resume: ${resumed.status} ${resumed.text}`);
      const rotated = await operator.post(`/api/v1/admin/partners/${partner.id}/keys`, { graceSeconds: 0 });
      if (rotated.status !== 201) throw new Error(`seed key: ${rotated.status} ${rotated.text}`);
      partner.key = String(rotated.json.apiKey);
      partner.api = apiClient(system.baseUrl, partner.key);
    }
    await register(tenantS.domain, [tenantS.admin]);
    await register(tenantO.domain, [tenantO.admin]);
    const fresh = (label: string) => `fz-${label}-${hex()}.example.com`;
    if (!(await invitationOpens(seeds.relInvited.token))) {
      const domain = fresh('i');
      await register(domain, [`admin@${domain}`]);
      seeds.relInvited = await offerTo(partnerA, domain, `admin@${domain}`, ['reports-reader']);
    }
    if (!(await invitationOpens(seeds.relContact.token))) {
      const domain = fresh('k');
      await register(domain, [`admin@${domain}`]);
      seeds.relContact = await offerTo(partnerA, domain, `contact@${domain}`, ['security-reader']);
    }
    if (!(await invitationOpens(seeds.relUnregistered.token))) {
      const domain = fresh('u');
      seeds.relUnregistered = await offerTo(partnerA, domain, `someone@${domain}`, ['user-administrator']);
    }
    if ((await statusOf(seeds.relOther)) !== 'invited') seeds.relOther = await offerTo(partnerB, tenantO.domain, tenantO.admin, ['user-administrator']);
    if ((await statusOf(seeds.relActive)) !== 'active') seeds.relActive = await activeIn(tenantS.domain, tenantS.admin);
    const page = await getPage(`${system.baseUrl}/partner-relationships`, new Map(seeds.session.jar));
    if (csrfIn(page.text) !== seeds.session.csrf) seeds.session = await newSession();
    await settle();
  }

  async function snapshot(relationships: readonly SeededName[] = []): Promise<Snapshot> {
    const [writes, charged, mail, webhook, states] = await Promise.all([
      db.query<{ n: string | null }>('SELECT max(id)::text AS n FROM fuzz_changes'),
      db.query<{ n: number }>('SELECT coalesce(sum(mail_sent), 0)::int AS n FROM partners'),
      system.mailQueue.getJobCounts(),
      system.webhookQueue.getJobCounts(),
      Promise.all(relationships.map(async (name) => [name, JSON.stringify(await seeds[name].handle.query(getStateQuery))] as const)),
    ]);
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    return { lastWrite: Number(writes.rows[0]?.n ?? 0), mailCharged: charged.rows[0]?.n ?? 0, queues: { mail: total(mail), webhook: total(webhook) }, workflows: Object.fromEntries(states) };
  }

  async function writesSince(lastWrite: number): Promise<string[]> {
    const rows = await db.query<{ tbl: string; op: string; row: unknown }>('SELECT tbl, op, row FROM fuzz_changes WHERE id > $1 ORDER BY id LIMIT 20', [lastWrite]);
    return rows.rows.map((r) => `${r.op} ${r.tbl} ${JSON.stringify(r.row).slice(0, 300)}`);
  }

  async function settle(since?: Snapshot, maxMs = 10_000): Promise<void> {
    const until = Date.now() + maxMs;
    const first = await snapshot();
    let last = JSON.stringify(first);
    // A request that wrote something may have started a workflow whose activities write a moment later:
    // wait for a longer quiet spell then. One that wrote nothing gets a short look.
    const wrote = !since || first.lastWrite !== since.lastWrite || JSON.stringify(first.queues) !== JSON.stringify(since.queues);
    const [quietChecks, intervalMs] = wrote ? [4, 150] : [2, 60];
    let stableFor = 0;
    while (Date.now() < until && stableFor < quietChecks) {
      await new Promise((r) => setTimeout(r, intervalMs));
      const [next, busy] = await Promise.all([
        snapshot().then((s) => JSON.stringify(s)),
        system.mailQueue.getJobCounts('waiting', 'active', 'prioritized').then((c) => Object.values(c).reduce((a, b) => a + b, 0)),
      ]);
      stableFor = next === last && busy === 0 ? stableFor + 1 : 0;
      last = next;
    }
  }

  return {
    system,
    seeds,
    secrets: () => [system.config.OPERATOR_TOKEN, system.config.SESSION_SECRET, system.config.LINK_SECRET, seeds.partnerA.key, seeds.partnerB.key],
    ensureSeeds,
    snapshot,
    writesSince,
    settle,
    async stop() {
      await db.end().catch(() => undefined);
      await system.stop();
      await dns.close();
      const admin = new pg.Client({ connectionString: shared.toString() });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${databaseUrl.pathname.slice(1)}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** What changed between two snapshots (besides database writes, which `writesSince` lists), one line per difference. */
export function differences(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  if (after.lastWrite !== before.lastWrite) out.push(`database: ${after.lastWrite - before.lastWrite} row write(s)`);
  if (after.mailCharged !== before.mailCharged) out.push(`partner mail quota: ${before.mailCharged} → ${after.mailCharged} emails charged`);
  for (const part of ['queues', 'workflows'] as const) {
    for (const key of Object.keys(before[part])) {
      const a = String(before[part][key]);
      const b = String(after[part][key]);
      if (a !== b) out.push(`${part}.${key}: ${a.slice(0, 300)} → ${b.slice(0, 300)}`);
    }
  }
  return out;
}

/** Tables whose rows the worker keeps updating in the background (delivery attempts): only inserts and deletes count. */
const BACKGROUND_UPDATED = ['email_messages', 'webhook_deliveries', 'webhook_attempts'];
/**
 * Bookkeeping columns a request may touch without changing anything that matters: last use, the
 * partner's mail quota (compared as a total by `differences`, since a refused resend charges and
 * gives back), and the pending-invitation count (kept by triggers from relationships, recorded).
 */
const IGNORED_COLUMNS = ['last_used_at', 'last_seen_at', 'mail_hour', 'mail_sent', 'pending_invitations'];

/**
 * Records every row this database's tables gain, lose or change (in value) in
 * fuzz_changes, transactionally: a write that is rolled back leaves no record.
 * Installed in the fuzz suite's own database only, after the migrations.
 */
async function recordEveryWrite(db: pg.Client): Promise<void> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_prisma%'`,
  );
  const ignored = IGNORED_COLUMNS.map((c) => ` - ${pg.escapeLiteral(c)}`).join('');
  await db.query(`
    CREATE TABLE fuzz_changes (id bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL, row jsonb);
    CREATE FUNCTION fuzz_record() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF TG_TABLE_NAME = ANY (ARRAY[${BACKGROUND_UPDATED.map((t) => pg.escapeLiteral(t)).join(', ')}]) THEN RETURN NULL; END IF;
        IF (to_jsonb(NEW)${ignored}) = (to_jsonb(OLD)${ignored}) THEN RETURN NULL; END IF;
      END IF;
      INSERT INTO fuzz_changes (tbl, op, row) VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END));
      RETURN NULL;
    END $$;
  `);
  for (const { table_name: table } of tables.rows) {
    const ident = `"${table.replace(/"/g, '""')}"`;
    await db.query(`CREATE TRIGGER fuzz_record AFTER INSERT OR UPDATE OR DELETE ON ${ident} FOR EACH ROW EXECUTE FUNCTION fuzz_record()`);
  }
}
