import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyExport, type ExportedEvent } from '../../src/audit/auditChain.js';
import { createAuditExport } from '../../src/audit/auditExport.js';
import { writeAuditEvent } from '../../src/audit/auditLog.js';
import { projectRoot } from '../../src/config/projectRoot.js';
import { apiClient, getPage } from '../support/http.js';
import { customer, newPartner, onboardActiveRelationship, offer, invitationLink, answer, waitForStatus, unique, registerTenant } from '../support/relationshipDriver.js';
import { signIn } from '../support/tenantDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

// The tamper-evident audit export on the real stack: relationships driven by
// their users, the chain exported by the operator and by the customer, checked
// by the verify command, then rows changed and removed behind the API's back.

const events = (ndjson: string) =>
  ndjson
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ExportedEvent & { head?: { chain: string; seq: string; hash: string } })
    .filter((e) => !e.head);

/** The CLI as an operator runs it (npm run operator -- …), from source, as a child process. */
function operatorCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/system/operatorMain.ts', ...args], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('audit export: hash chains per tenant, exported and verified', () => {
  const system = useTestSystem('auditExport');
  const operator = () => apiClient(system.baseUrl, system.operatorToken);
  const exportOf = async (query: string) => {
    const res = await fetch(`${system.baseUrl}/api/v1/admin/audit?${query}`, { headers: { authorization: `Bearer ${system.operatorToken}` } });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    return text;
  };
  let scratch: string | undefined;
  const fileWith = async (text: string) => {
    scratch ??= await mkdtemp(path.join(tmpdir(), 'audit-export-'));
    const file = path.join(scratch, `${unique('export')}.ndjson`);
    await writeFile(file, text);
    return file;
  };

  it('exports a tenant chain that verifies, and catches a row edited in the database at that row (CLI exit 1)', async () => {
    const { partner, to, id } = await onboardActiveRelationship(system, 'audit-edit');
    expect((await partner.api.post(`/api/v1/relationships/${id}/terminate`, { reason: 'contract over' })).status).toBe(200);
    await waitForStatus(partner, id, 'terminated');

    const intact = await exportOf(`tenant=${to.tenantDomain}`);
    const chain = events(intact);
    expect(chain.map((e) => e.action)).toEqual(['tenant.registered', 'tenant.adminAdded', 'relationship.invited', 'relationship.accepted', 'relationship.active', 'relationship.terminated']);
    expect(chain.map((e) => e.seq)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(chain.every((e) => e.chain === `tenant:${to.tenantDomain}`)).toBe(true);
    expect(verifyExport(intact)).toMatchObject({ ok: true, summary: { events: 6, lastSeq: '6' } });

    const env = { PARTNERFLOW_URL: system.baseUrl, OPERATOR_TOKEN: system.operatorToken };
    // The CLI's own export is the same chain, and its verify says intact with exit code 0.
    const cliExport = await operatorCli(['audit', 'export', '--tenant', to.tenantDomain], env);
    expect(cliExport.code, cliExport.stderr).toBe(0);
    expect(events(cliExport.stdout)).toEqual(chain);
    const good = await operatorCli(['audit', 'verify', await fileWith(cliExport.stdout)], {});
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(new RegExp(`^intact: chain tenant:${to.tenantDomain.replace(/\./g, '\\.')}, 6 events`));

    // Someone with database access gives the acceptance a reason it never had.
    const accepted = chain[3] as ExportedEvent;
    await system.db.$executeRaw`UPDATE audit_events SET reason = 'customer asked for it' WHERE id = ${BigInt(accepted.id)}`;
    const tampered = await exportOf(`tenant=${to.tenantDomain}`);
    expect(verifyExport(tampered)).toMatchObject({ ok: false, broken: { kind: 'hashMismatch', line: 4, seq: '4', id: accepted.id } });
    const bad = await operatorCli(['audit', 'verify', await fileWith(tampered)], {});
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`BROKEN at line 4 (seq 4, event id ${accepted.id}): hash mismatch`);
  });

  it('catches a deleted row as a gap in sequence, and a deleted last row through the head', async () => {
    const { to } = await onboardActiveRelationship(system, 'audit-delete');
    const chain = events(await exportOf(`tenant=${to.tenantDomain}`));
    expect(chain).toHaveLength(5);
    const second = chain[1] as ExportedEvent;
    await system.db.$executeRaw`DELETE FROM audit_events WHERE id = ${BigInt(second.id)}`;
    const gap = await exportOf(`tenant=${to.tenantDomain}`);
    expect(verifyExport(gap)).toMatchObject({ ok: false, broken: { kind: 'sequenceGap', line: 2, seq: '3' } });
    const cli = await operatorCli(['audit', 'verify', await fileWith(gap)], {});
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('gap in sequence: expected seq 2, found 3');

    const other = await onboardActiveRelationship(system, 'audit-delete-last');
    const last = events(await exportOf(`tenant=${other.to.tenantDomain}`)).at(-1) as ExportedEvent;
    await system.db.$executeRaw`DELETE FROM audit_events WHERE id = ${BigInt(last.id)}`;
    expect(verifyExport(await exportOf(`tenant=${other.to.tenantDomain}`))).toMatchObject({ ok: false, broken: { kind: 'headMismatch' } });
  });

  it('keeps one unbroken chain when several relationships of one tenant are accepted at once', async () => {
    const to = customer('audit-concurrent');
    await registerTenant(system, to);
    const partners = await Promise.all([1, 2, 3, 4].map((n) => newPartner(system, `audit-concurrent-${n}`)));
    const offers = [];
    for (const partner of partners) offers.push({ partner, ...(await offer(system, partner, to, {}, { registered: false })) });
    const links = await Promise.all(offers.map((_, i) => invitationLink(system, to, undefined, i + 1)));
    const answers = await Promise.all(links.map((link) => answer(link, { yes: true })));
    for (const answered of answers) expect(answered.status).toBeLessThan(400);
    await Promise.all(offers.map((o) => waitForStatus(o.partner, o.id, 'active')));

    // Writers racing directly on the chain too, each event written twice (a retried activity).
    const keys = Array.from({ length: 8 }, (_, i) => unique(`race-${i}`));
    const appended = await Promise.all(
      [...keys, ...keys].map((key) => writeAuditEvent(system.db, { idempotencyKey: key, tenantDomain: to.tenantDomain, actorType: 'system', action: 'test.race' })),
    );
    expect(appended.filter((a) => a.seq !== null)).toHaveLength(keys.length);

    const exported = await exportOf(`tenant=${to.tenantDomain}`);
    const chain = events(exported);
    // Read a few events per query, the export is the same file.
    const paged: string[] = [];
    for await (const line of createAuditExport(system.db, 3).lines(`tenant:${to.tenantDomain}`, 'operator')) paged.push(line);
    expect(`${paged.join('\n')}\n`).toBe(exported);
    // tenant.registered and tenant.adminAdded, then invited, accepted and active for each of the four, then the racers once each.
    expect(chain).toHaveLength(2 + 4 * 3 + keys.length);
    expect(chain.filter((e) => e.action === 'test.race').map((e) => e.idempotencyKey).sort()).toEqual([...keys].sort());
    expect(verifyExport(exported)).toMatchObject({ ok: true, summary: { events: chain.length } });
  });

  it('gives a signed-in customer admin its own tenant chain only; operator-only data comes as a digest', async () => {
    const mine = await onboardActiveRelationship(system, 'audit-mine');
    const theirs = await onboardActiveRelationship(system, 'audit-theirs');
    await writeAuditEvent(system.db, {
      idempotencyKey: unique('provider-error'),
      relationshipId: mine.id,
      actorType: 'system',
      action: 'trial.providerError',
      data: { attempt: 1, detail: 'Error: connect ECONNREFUSED billing.internal:5432 user=svc password=hunter2' },
    });
    const jar = await signIn(system, mine.to.tenantDomain, mine.to.adminEmail);

    const page = await getPage(`${system.baseUrl}/partner-relationships`, jar);
    expect(page.text).toContain('href="/partner-relationships/audit-log"');
    const download = await getPage(`${system.baseUrl}/partner-relationships/audit-log`, jar);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain(`audit-${mine.to.tenantDomain}.ndjson`);
    const chain = events(download.text);
    expect(new Set(chain.map((e) => e.chain))).toEqual(new Set([`tenant:${mine.to.tenantDomain}`]));
    expect(chain.some((e) => e.relationshipId === mine.id)).toBe(true);
    expect(download.text).not.toContain(theirs.id);
    expect(download.text).not.toContain('hunter2');
    expect(chain.find((e) => e.action === 'trial.providerError')).toMatchObject({ dataDigest: expect.stringMatching(/^[0-9a-f]{64}$/) as string });
    expect(verifyExport(download.text)).toMatchObject({ ok: true });

    // Nothing in the request picks the tenant: asking for another one still gets the session's own.
    const asked = await getPage(`${system.baseUrl}/partner-relationships/audit-log?tenant=${theirs.to.tenantDomain}&chain=service`, jar);
    expect(asked.text).not.toContain(theirs.to.tenantDomain);
    expect(asked.text).not.toContain(theirs.id);
    expect(events(asked.text).every((e) => e.chain === `tenant:${mine.to.tenantDomain}`)).toBe(true);
    // Signed out (no session) there is nothing to download; a partner's key is not the operator's.
    expect((await getPage(`${system.baseUrl}/partner-relationships/audit-log`)).status).toBe(401);
    expect((await mine.partner.api.get(`/api/v1/admin/audit?tenant=${mine.to.tenantDomain}`)).status).toBe(403);
  });

  it('exports the service chain (operator key changes), and refuses an export naming no chain or two', async () => {
    const partner = await newPartner(system, 'audit-service');
    expect((await operator().post(`/api/v1/admin/partners/${partner.id}/keys`, { graceSeconds: 0 })).status).toBe(201);
    const service = await exportOf('chain=service');
    const chain = events(service);
    expect(chain.some((e) => e.action.startsWith('partner.apiKey') && JSON.stringify(e.data).includes(partner.id))).toBe(true);
    expect(verifyExport(service)).toMatchObject({ ok: true, summary: { chain: 'service' } });
    for (const query of ['', 'tenant=a.example.com&chain=service', 'chain=other', 'tenant=not a domain']) {
      expect((await operator().get(`/api/v1/admin/audit?${query}`)).status, query).toBe(400);
    }
    // A tenant with no events yet: an empty chain, its head at seq 0.
    const empty = await exportOf(`tenant=${unique('nobody')}.example.com`);
    expect(verifyExport(empty)).toMatchObject({ ok: true, summary: { events: 0 } });
    // The verify command's usage error and a missing file are exit code 2, not a verdict.
    expect((await operatorCli(['audit', 'verify'], {})).code).toBe(2);
    expect((await operatorCli(['audit', 'verify', '/nonexistent/audit.ndjson'], {})).code).toBe(2);
  });
});
