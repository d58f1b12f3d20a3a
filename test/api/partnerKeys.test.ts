import { describe, expect, it } from 'vitest';
import { keyRotatedSchema, partnerKeyListSchema, partnerKeySchema } from '../../src/operator/partnerKeySchemas.js';
import { runOperatorCli } from '../../src/operator/cli/operatorCli.js';
import { useHttpServer, useTestApp } from '../support/useTestApp.js';
import { expectShape, field } from './apiHarness.js';
import { auth, createPartner } from './customerFlow.js';

// A partner's API keys: rotation (a new key; the old one works for a grace
// period, then 401), revocation (401 at once), both audited, operator-only,
// and the CLI over the same routes.

describe('partner API keys', () => {
  // A failure limit high enough that this file's deliberate 401s never trip it.
  const { app, api } = useTestApp({ env: { AUTH_FAILURE_LIMIT: '1000' } });
  const server = useHttpServer(() => app.app);

  const newPartner = (name: string) => createPartner(api, app.operatorToken, name, 'ops@keys.example');
  const works = async (key: string) => (await api.get('/api/v1/relationships').set(auth(key))).status;
  const rotate = (partnerId: string, body: Record<string, unknown> = {}, key = app.operatorToken) =>
    api.post(`/api/v1/admin/partners/${partnerId}/keys`).set(auth(key)).send(body);
  const keyRows = (partnerId: string) => app.db.partnerApiKey.findMany({ where: { partnerId }, orderBy: { createdAt: 'asc' } });
  const auditOf = (partnerId: string) =>
    app.db.auditEvent.findMany({ where: { action: { startsWith: 'partner.apiKey' }, data: { path: ['partnerId'], equals: partnerId } }, orderBy: { id: 'asc' } });

  it('rotate: a new key shown once, both keys work during the grace period, the old one is 401 after it', async () => {
    const partner = await newPartner('Rotating');
    const before = Date.now();
    const res = await rotate(partner.id);
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const rotated = expectShape(keyRotatedSchema, res.body);
    const newKey = rotated.apiKey ?? '';
    expect(newKey).toMatch(/^pf_/);
    expect(newKey).not.toBe(partner.key);
    expect(rotated.key).toMatchObject({ status: 'active', expiresAt: null, revokedAt: null, prefix: newKey.slice(0, 10) });
    // The default grace period is a day.
    expect(rotated.previousKeys).toHaveLength(1);
    expect(rotated.previousKeys[0]).toMatchObject({ status: 'expiring', prefix: partner.key.slice(0, 10) });
    const graceEnd = Date.parse(rotated.previousKeys[0]?.expiresAt ?? '');
    expect(graceEnd - before).toBeGreaterThanOrEqual(86_400_000 - 1_000);
    expect(graceEnd - Date.now()).toBeLessThanOrEqual(86_400_000);

    expect(await works(partner.key)).toBe(200);
    expect(await works(newKey)).toBe(200);
    // Stored as hashes only.
    expect(JSON.stringify(await keyRows(partner.id))).not.toContain(newKey);

    // The grace period ends (moved into the past here rather than waited for).
    const old = (await keyRows(partner.id))[0];
    await app.db.partnerApiKey.update({ where: { id: old?.id ?? '' }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const refused = await api.get('/api/v1/relationships').set(auth(partner.key));
    expect(refused.status).toBe(401);
    expect(field(refused, 'type')).toBe('/problems/unauthorized');
    expect(await works(newKey)).toBe(200);

    const list = expectShape(partnerKeyListSchema, (await api.get(`/api/v1/admin/partners/${partner.id}/keys`).set(auth(app.operatorToken))).body);
    expect(list.keys.map((k) => k.status)).toEqual(['active', 'expired']);
    const partners = (await api.get('/api/v1/admin/partners').set(auth(app.operatorToken))).body as { partners: { id: string; apiKeyPrefix: string | null }[] };
    expect(partners.partners.find((p) => p.id === partner.id)?.apiKeyPrefix).toBe(newKey.slice(0, 10));

    const audit = await auditOf(partner.id);
    expect(audit.map((a) => [a.action, a.actorType])).toEqual([['partner.apiKeyRotated', 'operator']]);
    expect(audit[0]?.data).toMatchObject({ keyId: rotated.key.id, prefix: rotated.key.prefix, graceSeconds: 86_400 });
    expect(JSON.stringify(audit.map((a) => a.data))).not.toContain(newKey);
  });

  it('graceSeconds 0 ends the old key at once; an Idempotency-Key replay does not show the new key again', async () => {
    const partner = await newPartner('No grace');
    const first = await rotate(partner.id, { graceSeconds: 0 }).set('Idempotency-Key', 'rotate-1');
    expect(first.status).toBe(201);
    const newKey = expectShape(keyRotatedSchema, first.body).apiKey ?? '';
    expect(await works(partner.key)).toBe(401);
    expect(await works(newKey)).toBe(200);
    const replay = await rotate(partner.id, { graceSeconds: 0 }).set('Idempotency-Key', 'rotate-1');
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(field(replay, 'apiKey')).toBeUndefined();
    expect(await keyRows(partner.id)).toHaveLength(2);
  });

  it('revoke (by prefix or id): 401 at once, audited; again changes nothing; unknown keys are 404', async () => {
    const partner = await newPartner('Revoked');
    const prefix = partner.key.slice(0, 10);
    const res = await api.delete(`/api/v1/admin/partners/${partner.id}/keys/${prefix}`).set(auth(app.operatorToken));
    expect(res.status).toBe(200);
    const revoked = expectShape(partnerKeySchema, res.body);
    expect(revoked).toMatchObject({ status: 'revoked', prefix });
    expect(await works(partner.key)).toBe(401);

    const again = await api.delete(`/api/v1/admin/partners/${partner.id}/keys/${revoked.id}`).set(auth(app.operatorToken));
    expect(again.status).toBe(200);
    expect(field(again, 'revokedAt')).toBe(revoked.revokedAt);
    expect((await auditOf(partner.id)).map((a) => a.action)).toEqual(['partner.apiKeyRevoked']);

    // A rotation after a revocation gives the partner a working key again; the revoked one stays dead.
    const rotated = expectShape(keyRotatedSchema, (await rotate(partner.id)).body);
    expect(rotated.previousKeys).toEqual([]);
    expect(await works(rotated.apiKey ?? '')).toBe(200);
    expect(await works(partner.key)).toBe(401);

    for (const key of ['pf_nothere', '00000000-0000-4000-8000-000000000000']) {
      expect((await api.delete(`/api/v1/admin/partners/${partner.id}/keys/${key}`).set(auth(app.operatorToken))).status).toBe(404);
    }
    expect((await api.delete(`/api/v1/admin/partners/${partner.id}/keys/not-a-key`).set(auth(app.operatorToken))).status).toBe(400);
    // Another partner's key is not this partner's to revoke.
    const other = await newPartner('Other');
    expect((await api.delete(`/api/v1/admin/partners/${partner.id}/keys/${other.key.slice(0, 10)}`).set(auth(app.operatorToken))).status).toBe(404);
    expect(await works(other.key)).toBe(200);
  });

  it('a partner key cannot list, rotate or revoke keys (its own included); nothing changes', async () => {
    const partner = await newPartner('Thief');
    for (const res of [
      await rotate(partner.id, {}, partner.key),
      await api.get(`/api/v1/admin/partners/${partner.id}/keys`).set(auth(partner.key)),
      await api.delete(`/api/v1/admin/partners/${partner.id}/keys/${partner.key.slice(0, 10)}`).set(auth(partner.key)),
    ]) {
      expect(res.status).toBe(403);
      expect(field(res, 'type')).toBe('/problems/forbidden');
    }
    expect((await keyRows(partner.id)).map((k) => [k.expiresAt, k.revokedAt])).toEqual([[null, null]]);
    expect(await auditOf(partner.id)).toEqual([]);
    expect((await rotate(partner.id, {}, 'pf_not-a-real-key')).status).toBe(401);
  });

  it('graceSeconds outside 0..604800 (or not a whole number) is a 400 naming the field; nothing changes', async () => {
    const partner = await newPartner('Bounds');
    for (const body of [{ graceSeconds: 604_801 }, { graceSeconds: -1 }, { graceSeconds: 1.5 }, { graceSeconds: '60' }, { other: 1 }]) {
      const res = await rotate(partner.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(field(res, 'type')).toBe('/problems/validation');
    }
    expect(JSON.stringify((await rotate(partner.id, { graceSeconds: 604_801 })).body)).toContain('graceSeconds');
    expect((await rotate('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect(await keyRows(partner.id)).toHaveLength(1);
    expect(await works(partner.key)).toBe(200);
  });

  it('the CLI rotates, lists and revokes', async () => {
    const partner = await newPartner('CLI');
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runOperatorCli(argv, { env: { PARTNERFLOW_URL: server.url, OPERATOR_TOKEN: app.operatorToken }, out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const rotated = await run('partners', 'rotate-key', partner.id, '--grace-seconds', '60');
    expect(rotated.code, rotated.err).toBe(0);
    const newKey = /new API key:\s+(pf_\S+)/.exec(rotated.out)?.[1] ?? '';
    expect(newKey).toMatch(/^pf_/);
    expect(rotated.out).toContain(`old key ${partner.key.slice(0, 10)}… works until`);
    expect(await works(newKey)).toBe(200);
    expect(await works(partner.key)).toBe(200);

    const revoked = await run('partners', 'revoke-key', partner.id, partner.key.slice(0, 10));
    expect(revoked.code, revoked.err).toBe(0);
    expect(revoked.out).toContain('revoked at');
    expect(await works(partner.key)).toBe(401);

    const listed = await run('partners', 'keys', partner.id);
    expect(listed.out).toMatch(/active/);
    expect(listed.out).toMatch(/revoked/);
    const bad = await run('partners', 'rotate-key', partner.id, '--grace-seconds', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--grace-seconds');
  });
});
