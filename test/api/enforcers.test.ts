import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessAnswerSchema } from '../../src/apiDocs/responseSchemas.js';
import { runOperatorCli } from '../../src/operator/cli/operatorCli.js';
import { enforcerCreatedSchema, enforcerKeyRotatedSchema, enforcerListSchema } from '../../src/operator/enforcerSchemas.js';
import { apiKeyListSchema, apiKeySchema } from '../../src/operator/keySchemas.js';
import { useHttpServer, useTestApp } from '../support/useTestApp.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { expectShape, field, uniqueDomain } from './apiHarness.js';
import { auth, createEnforcer, createPartner, customerFlow } from './customerFlow.js';

// Enforcers: the system that executes admin actions in a tenant asks the access
// question about any partner with a key of its own (issue 18), instead of
// holding every partner's key. Scoped to tenants or not; its keys rotate and
// are revoked like a partner's; it may ask nothing else; a partner key still
// asks only about its own partner.


describe('enforcers on the real stack: the access question about any partner', () => {
  const system = useTestSystem('enforcers');
  const flow = customerFlow(system);
  const api = flow.api;
  let partnerA: { id: string; key: string };
  let partnerB: { id: string; key: string };
  let relX: { id: string; tenantDomain: string };
  let relY: { id: string; tenantDomain: string };
  let scoped: { id: string; key: string };
  let unscoped: { id: string; key: string };

  const ask = (key: string, query: Record<string, string>) => api.get('/api/v1/access').query(query).set(auth(key));
  const answer = async (key: string, query: Record<string, string>) => {
    const res = await ask(key, query);
    expect(res.status, res.text).toBe(200);
    return expectShape(accessAnswerSchema, res.body);
  };

  beforeAll(async () => {
    partnerA = await flow.newPartner('Enforced A');
    partnerB = await flow.newPartner('Enforced B');
    // A is active in X and in Y; B in neither.
    relX = await flow.acceptedOffer(partnerA, uniqueDomain('enforced-x'));
    relY = await flow.acceptedOffer(partnerA, uniqueDomain('enforced-y'));
    scoped = await createEnforcer(api, system.operatorToken, { name: 'Executor for X', tenants: [relX.tenantDomain.toUpperCase()] });
    unscoped = await createEnforcer(api, system.operatorToken, { name: 'Executor for all' });
  });

  it('an enforcer scoped to X asks about any partner in X: true for an active grant, false otherwise', async () => {
    const x = relX.tenantDomain;
    expect(await answer(scoped.key, { partner: partnerA.id, tenant: x, role: 'user-administrator' })).toEqual({ allowed: true, relationshipId: relX.id });
    // The tenant is normalised before it is compared with the scope.
    expect(await answer(scoped.key, { partner: partnerA.id, tenant: `${x.toUpperCase()}.`, role: 'license-administrator' })).toEqual({ allowed: true, relationshipId: relX.id });
    expect(await answer(scoped.key, { partner: partnerA.id, tenant: x, role: 'reports-reader' })).toEqual({ allowed: false });
    expect(await answer(scoped.key, { partner: partnerB.id, tenant: x, role: 'user-administrator' })).toEqual({ allowed: false });
    expect(await answer(scoped.key, { partner: randomUUID(), tenant: x, role: 'user-administrator' })).toEqual({ allowed: false });
  });

  it('…and is refused (403) for a tenant outside its scope, though the partner holds access there', async () => {
    const res = await ask(scoped.key, { partner: partnerA.id, tenant: relY.tenantDomain, role: 'user-administrator' });
    expect(res.status).toBe(403);
    expect(field(res, 'type')).toBe('/problems/forbidden');
    expect(res.text).not.toContain(relY.id);
    expect((await ask(scoped.key, { partner: partnerA.id, tenant: uniqueDomain('elsewhere'), role: 'user-administrator' })).status).toBe(403);
  });

  it('an enforcer must name the partner (400), and the query is validated as before', async () => {
    const res = await ask(scoped.key, { tenant: relX.tenantDomain, role: 'user-administrator' });
    expect(res.status).toBe(400);
    expect(field(res, 'type')).toBe('/problems/validation');
    expect(field(res, 'errors')).toEqual([expect.objectContaining({ path: 'partner' })]);
    const queries: Record<string, string>[] = [
      { partner: 'partner-a', tenant: relX.tenantDomain, role: 'user-administrator' },
      { partner: partnerA.id, tenant: relX.tenantDomain, role: 'root' },
      { partner: partnerA.id, tenant: relX.tenantDomain, role: 'user-administrator', partnerId: partnerA.id },
    ];
    for (const query of queries) {
      expect((await ask(scoped.key, query)).status, JSON.stringify(query)).toBe(400);
    }
  });

  it('an unscoped enforcer asks about any partner in any tenant', async () => {
    expect(await answer(unscoped.key, { partner: partnerA.id, tenant: relX.tenantDomain, role: 'user-administrator' })).toEqual({ allowed: true, relationshipId: relX.id });
    expect(await answer(unscoped.key, { partner: partnerA.id, tenant: relY.tenantDomain, role: 'user-administrator' })).toEqual({ allowed: true, relationshipId: relY.id });
    expect(await answer(unscoped.key, { partner: partnerB.id, tenant: relY.tenantDomain, role: 'user-administrator' })).toEqual({ allowed: false });
    expect(await answer(unscoped.key, { partner: partnerA.id, tenant: uniqueDomain('nowhere'), role: 'user-administrator' })).toEqual({ allowed: false });
  });

  it('a partner key asks about itself as before, may name itself, and may not ask about another partner (403)', async () => {
    const x = relX.tenantDomain;
    expect(await answer(partnerA.key, { tenant: x, role: 'user-administrator' })).toEqual({ allowed: true, relationshipId: relX.id });
    expect(await answer(partnerA.key, { partner: partnerA.id, tenant: x, role: 'user-administrator' })).toEqual({ allowed: true, relationshipId: relX.id });
    expect(await answer(partnerA.key, { partner: partnerA.id.toUpperCase(), tenant: x, role: 'user-administrator' })).toEqual({ allowed: true, relationshipId: relX.id });
    expect(await answer(partnerB.key, { tenant: x, role: 'user-administrator' })).toEqual({ allowed: false });
    // B cannot learn A's access by naming A (whatever the answer would be), nor A B's.
    for (const [key, other] of [
      [partnerB.key, partnerA.id],
      [partnerA.key, partnerB.id],
      [partnerB.key, randomUUID()],
    ] as const) {
      const res = await ask(key, { partner: other, tenant: x, role: 'user-administrator' });
      expect(res.status).toBe(403);
      expect(field(res, 'type')).toBe('/problems/forbidden');
      expect(res.text).not.toContain(relX.id);
    }
    // The operator does not ask, with or without a partner.
    expect((await ask(system.operatorToken, { partner: partnerA.id, tenant: x, role: 'user-administrator' })).status).toBe(403);
  });

  it('an enforcer key is refused (403) on every other route of the API, and nothing changes', async () => {
    const doc = (await api.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const values: Record<string, string> = { id: relX.id, key: scoped.key.slice(0, 11), domain: relX.tenantDomain, email: `admin@${relX.tenantDomain}` };
    const keysBefore = await system.db.enforcerApiKey.findMany({ orderBy: { id: 'asc' } });
    let tried = 0;
    for (const [template, methods] of Object.entries(doc.paths)) {
      if (!template.startsWith('/api/v1/') || template.startsWith('/api/v1/access') || template === '/api/v1/roles') continue;
      const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(values[name] ?? 'x'));
      for (const method of Object.keys(methods)) {
        const call = api[method as 'get' | 'post' | 'put' | 'delete'](path).set(auth(scoped.key));
        const res = method === 'get' || method === 'delete' ? await call : await call.send({ name: 'Intruder', tenants: [relX.tenantDomain], graceSeconds: 0 });
        expect(res.status, `${method} ${template}`).toBe(403);
        expect(field(res, 'type'), `${method} ${template}`).toBe('/problems/forbidden');
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(15);
    // The very routes the brief names, spelled out, and one that does not exist.
    const spelled = {
      'POST /relationships': () =>
        api.post('/api/v1/relationships').set(auth(unscoped.key)).send({ customer: { tenantDomain: relX.tenantDomain, adminEmail: `admin@${relX.tenantDomain}` }, roles: ['reports-reader'] }),
      'GET /relationships': () => api.get('/api/v1/relationships').set(auth(unscoped.key)),
      'GET /relationships/{id}': () => api.get(`/api/v1/relationships/${relX.id}`).set(auth(unscoped.key)),
      'GET /admin/enforcers': () => api.get('/api/v1/admin/enforcers').set(auth(unscoped.key)),
      'POST /admin/enforcers/{own id}/keys': () => api.post(`/api/v1/admin/enforcers/${unscoped.id}/keys`).set(auth(unscoped.key)).send({}),
      'GET /nothing-here': () => api.get('/api/v1/nothing-here').set(auth(unscoped.key)),
      'POST /access': () => api.post('/api/v1/access').set(auth(unscoped.key)).send({}),
    };
    for (const [name, call] of Object.entries(spelled)) expect((await call()).status, name).toBe(403);
    expect(await flow.statusOf(partnerA, relX.id)).toBe('active');
    expect(await system.db.relationship.count({ where: { tenantDomain: relX.tenantDomain } })).toBe(1);
    expect(await system.db.enforcer.count({ where: { name: 'Intruder' } })).toBe(0);
    expect(await system.db.enforcerApiKey.findMany({ orderBy: { id: 'asc' } })).toEqual(keysBefore);
  });

  it('once the relationship ends, the enforcer is told no', async () => {
    const res = await api.post(`/api/v1/relationships/${relY.id}/terminate`).set(auth(partnerA.key)).send({});
    expect(res.status, res.text).toBe(200);
    await waitFor(async () => (await answer(unscoped.key, { partner: partnerA.id, tenant: relY.tenantDomain, role: 'user-administrator' })).allowed === false, {
      what: 'the grant in Y revoked',
    });
    expect(await answer(unscoped.key, { partner: partnerA.id, tenant: relX.tenantDomain, role: 'user-administrator' })).toEqual({ allowed: true, relationshipId: relX.id });
  });
});

describe('enforcer keys: issued, listed, rotated and revoked by the operator', () => {
  /** Every log line the app writes, at debug (each request is logged). */
  const lines: string[] = [];
  // A failure limit high enough that this file's deliberate 401s never trip it.
  const { app, api } = useTestApp({ env: { AUTH_FAILURE_LIMIT: '1000', LOG_LEVEL: 'debug' }, logDestination: { write: (line: string) => void lines.push(line) } });
  const server = useHttpServer(() => app.app);
  /** Every key this block saw, to look for in logs and lists. */
  const seen: string[] = [];

  const newEnforcer = async (body: { name: string; tenants?: string[] } = { name: 'Executor' }) => {
    const created = await createEnforcer(api, app.operatorToken, body);
    seen.push(created.key);
    return created;
  };
  /** What an access check with this key answers (200 for a live enforcer key, 401 for a dead one). */
  const works = async (key: string) => (await api.get('/api/v1/access').query({ partner: randomUUID(), tenant: 'contoso.example', role: 'user-administrator' }).set(auth(key))).status;
  const rotate = (enforcerId: string, body: Record<string, unknown> = {}, key = app.operatorToken) => api.post(`/api/v1/admin/enforcers/${enforcerId}/keys`).set(auth(key)).send(body);
  const keyRows = (enforcerId: string) => app.db.enforcerApiKey.findMany({ where: { enforcerId }, orderBy: { createdAt: 'asc' } });
  const auditOf = (enforcerId: string) =>
    app.db.auditEvent.findMany({ where: { action: { startsWith: 'enforcer.' }, data: { path: ['enforcerId'], equals: enforcerId } }, orderBy: { id: 'asc' } });
  const listed = async () => expectShape(enforcerListSchema, (await api.get('/api/v1/admin/enforcers').set(auth(app.operatorToken))).body).enforcers;

  it('create: the key shown once (pfe_, no-store), only its hash stored, tenants normalised, audited', async () => {
    const res = await api.post('/api/v1/admin/enforcers').set(auth(app.operatorToken)).send({ name: ' Executor ', tenants: ['Contoso.EXAMPLE.', 'contoso.example', 'fabrikam.example'] });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const created = expectShape(enforcerCreatedSchema, res.body);
    const key = created.apiKey ?? '';
    seen.push(key);
    expect(key).toMatch(/^pfe_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'Executor', tenants: ['contoso.example', 'fabrikam.example'] });
    expect(await works(key)).toBe(200);

    const rows = await keyRows(created.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.prefix).toBe(key.slice(0, 11));
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(await app.db.enforcer.findUnique({ where: { id: created.id } }))).not.toContain(key);

    const audit = await auditOf(created.id);
    expect(audit.map((a) => [a.action, a.actorType])).toEqual([['enforcer.created', 'operator']]);
    expect(audit[0]?.data).toMatchObject({ name: 'Executor', tenants: ['contoso.example', 'fabrikam.example'], keyId: rows[0]?.id, prefix: key.slice(0, 11) });
    expect(JSON.stringify(audit.map((a) => a.data))).not.toContain(key);
  });

  it('create: bad input is a 400 naming the field and creates nothing; a partner key may not create or list (403)', async () => {
    const before = await app.db.enforcer.count();
    for (const body of [{}, { name: 'X', tenants: [] }, { name: 'X', tenants: ['not a domain'] }, { name: 'X', tenants: 'contoso.example' }, { name: 'X', allTenants: true }, { name: '' }]) {
      const res = await api.post('/api/v1/admin/enforcers').set(auth(app.operatorToken)).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(field(res, 'type')).toBe('/problems/validation');
    }
    const partner = await createPartner(api, app.operatorToken, 'Would-be enforcer', 'ops@enforcer.example');
    seen.push(partner.key);
    expect((await api.post('/api/v1/admin/enforcers').set(auth(partner.key)).send({ name: 'Mine' })).status).toBe(403);
    expect((await api.get('/api/v1/admin/enforcers').set(auth(partner.key))).status).toBe(403);
    expect(await app.db.enforcer.count()).toBe(before);
  });

  it('create: an Idempotency-Key replay answers the same enforcer without its key', async () => {
    const body = { name: 'Idempotent executor' };
    const first = await api.post('/api/v1/admin/enforcers').set(auth(app.operatorToken)).set('Idempotency-Key', 'enforcer-1').send(body);
    expect(first.status).toBe(201);
    seen.push(String(field(first, 'apiKey')));
    const replay = await api.post('/api/v1/admin/enforcers').set(auth(app.operatorToken)).set('Idempotency-Key', 'enforcer-1').send(body);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers['cache-control']).toBe('no-store');
    expect(field(replay, 'id')).toBe(field(first, 'id'));
    expect(field(replay, 'apiKey')).toBeUndefined();
    expect(await app.db.enforcer.count({ where: { name: 'Idempotent executor' } })).toBe(1);
  });

  it('list: every enforcer with its tenants and key prefixes and dates, never a key', async () => {
    const scopedOne = await newEnforcer({ name: 'Listed scoped', tenants: ['listed.example'] });
    const any = await newEnforcer({ name: 'Listed unscoped' });
    const res = await api.get('/api/v1/admin/enforcers').set(auth(app.operatorToken));
    expect(res.status).toBe(200);
    const enforcers = expectShape(enforcerListSchema, res.body).enforcers;
    expect(enforcers.find((e) => e.id === scopedOne.id)).toMatchObject({ name: 'Listed scoped', tenants: ['listed.example'], keys: [{ prefix: scopedOne.key.slice(0, 11), status: 'active' }] });
    expect(enforcers.find((e) => e.id === any.id)).toMatchObject({ tenants: null, keys: [{ prefix: any.key.slice(0, 11), status: 'active', expiresAt: null, revokedAt: null }] });
    for (const key of seen) expect(res.text).not.toContain(key);
  });

  it('rotate: a new key shown once; the old one works during the grace period and is 401 after it; audited', async () => {
    const enforcer = await newEnforcer();
    const res = await rotate(enforcer.id, { graceSeconds: 3600 });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const rotated = expectShape(enforcerKeyRotatedSchema, res.body);
    const newKey = rotated.apiKey ?? '';
    seen.push(newKey);
    expect(rotated.enforcerId).toBe(enforcer.id);
    expect(newKey).toMatch(/^pfe_/);
    expect(rotated.key).toMatchObject({ status: 'active', prefix: newKey.slice(0, 11) });
    expect(rotated.previousKeys).toEqual([expect.objectContaining({ status: 'expiring', prefix: enforcer.key.slice(0, 11) })]);
    expect(Date.parse(rotated.previousKeys[0]?.expiresAt ?? '') - Date.now()).toBeGreaterThan(3500_000);

    expect(await works(enforcer.key)).toBe(200);
    expect(await works(newKey)).toBe(200);
    expect(JSON.stringify(await keyRows(enforcer.id))).not.toContain(newKey);

    // The grace period ends (moved into the past here rather than waited for).
    const [old] = await keyRows(enforcer.id);
    await app.db.enforcerApiKey.update({ where: { id: old?.id ?? '' }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const refused = await api.get('/api/v1/access').query({ partner: randomUUID(), tenant: 'contoso.example', role: 'user-administrator' }).set(auth(enforcer.key));
    expect(refused.status).toBe(401);
    expect(field(refused, 'type')).toBe('/problems/unauthorized');
    expect(await works(newKey)).toBe(200);

    const keys = expectShape(apiKeyListSchema, (await api.get(`/api/v1/admin/enforcers/${enforcer.id}/keys`).set(auth(app.operatorToken))).body).keys;
    expect(keys.map((k) => k.status)).toEqual(['active', 'expired']);
    expect((await listed()).find((e) => e.id === enforcer.id)?.keys.map((k) => k.status)).toEqual(['active', 'expired']);

    const audit = await auditOf(enforcer.id);
    expect(audit.map((a) => a.action)).toEqual(['enforcer.created', 'enforcer.apiKeyRotated']);
    expect(audit[1]).toMatchObject({ actorType: 'operator', data: { keyId: rotated.key.id, prefix: rotated.key.prefix, graceSeconds: 3600 } });
    expect(JSON.stringify(audit.map((a) => a.data))).not.toContain(newKey);
  });

  it('rotate: graceSeconds 0 ends the old key at once; a replay does not show the new key again; bounds are 400', async () => {
    const enforcer = await newEnforcer();
    const first = await rotate(enforcer.id, { graceSeconds: 0 }).set('Idempotency-Key', 'rotate-enforcer-1');
    expect(first.status).toBe(201);
    const newKey = expectShape(enforcerKeyRotatedSchema, first.body).apiKey ?? '';
    seen.push(newKey);
    expect(await works(enforcer.key)).toBe(401);
    expect(await works(newKey)).toBe(200);
    const replay = await rotate(enforcer.id, { graceSeconds: 0 }).set('Idempotency-Key', 'rotate-enforcer-1');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(field(replay, 'apiKey')).toBeUndefined();
    for (const body of [{ graceSeconds: 604_801 }, { graceSeconds: -1 }, { graceSeconds: '60' }, { other: 1 }]) {
      expect((await rotate(enforcer.id, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await rotate(randomUUID())).status).toBe(404);
    expect(await keyRows(enforcer.id)).toHaveLength(2);
  });

  it('revoke (by prefix or id): 401 at once, audited; again changes nothing; other keys are not its to revoke', async () => {
    const enforcer = await newEnforcer({ name: 'Revoked', tenants: ['contoso.example'] });
    const prefix = enforcer.key.slice(0, 11);
    const res = await api.delete(`/api/v1/admin/enforcers/${enforcer.id}/keys/${prefix}`).set(auth(app.operatorToken));
    expect(res.status).toBe(200);
    const revoked = expectShape(apiKeySchema, res.body);
    expect(revoked).toMatchObject({ status: 'revoked', prefix });
    expect(await works(enforcer.key)).toBe(401);

    const again = await api.delete(`/api/v1/admin/enforcers/${enforcer.id}/keys/${revoked.id}`).set(auth(app.operatorToken));
    expect(again.status).toBe(200);
    expect(field(again, 'revokedAt')).toBe(revoked.revokedAt);
    expect((await auditOf(enforcer.id)).map((a) => a.action)).toEqual(['enforcer.created', 'enforcer.apiKeyRevoked']);

    // Another enforcer's key, a partner's key prefix, and keys that do not exist.
    const other = await newEnforcer();
    expect((await api.delete(`/api/v1/admin/enforcers/${enforcer.id}/keys/${other.key.slice(0, 11)}`).set(auth(app.operatorToken))).status).toBe(404);
    expect(await works(other.key)).toBe(200);
    expect((await api.delete(`/api/v1/admin/enforcers/${enforcer.id}/keys/pf_Ab3-_9z`).set(auth(app.operatorToken))).status).toBe(400);
    expect((await api.delete(`/api/v1/admin/enforcers/${enforcer.id}/keys/${randomUUID()}`).set(auth(app.operatorToken))).status).toBe(404);
    expect((await api.delete(`/api/v1/admin/enforcers/${randomUUID()}/keys/${prefix}`).set(auth(app.operatorToken))).status).toBe(404);
    // An enforcer's id is not a partner's: the partner key routes do not find it.
    expect((await api.post(`/api/v1/admin/partners/${other.id}/keys`).set(auth(app.operatorToken)).send({})).status).toBe(404);

    // A rotation after a revocation gives the enforcer a working key again; the revoked one stays dead.
    const rotated = expectShape(enforcerKeyRotatedSchema, (await rotate(enforcer.id)).body);
    seen.push(rotated.apiKey ?? '');
    expect(rotated.previousKeys).toEqual([]);
    expect(await works(enforcer.key)).toBe(401);
    const scopedAgain = await api.get('/api/v1/access').query({ partner: randomUUID(), tenant: 'contoso.example', role: 'user-administrator' }).set(auth(rotated.apiKey ?? ''));
    expect(scopedAgain.status).toBe(200);
  });

  it('the CLI creates, lists, rotates and revokes enforcers’ keys', async () => {
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runOperatorCli(argv, { env: { PARTNERFLOW_URL: server.url, OPERATOR_TOKEN: app.operatorToken }, out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const created = await run('enforcers', 'create', '--name', 'CLI executor', '--tenant', 'Contoso.example', '--tenant', 'fabrikam.example');
    expect(created.code, created.err).toBe(0);
    const key = /enforcer key:\s+(pfe_\S+)/.exec(created.out)?.[1] ?? '';
    seen.push(key);
    expect(key).toMatch(/^pfe_/);
    expect(created.out).toContain('tenants:        contoso.example, fabrikam.example');
    const id = /^enforcer (\S+) \(CLI executor\)$/m.exec(created.out)?.[1] ?? '';
    expect(await works(key)).toBe(200);

    const list = await run('enforcers', 'list');
    expect(list.code, list.err).toBe(0);
    expect(list.out).toContain(id);
    expect(list.out).toContain('contoso.example,fabrikam.example');
    expect(list.out).toContain(`${key.slice(0, 11)}… active`);
    expect(list.out).not.toContain(key);

    const rotated = await run('enforcers', 'rotate-key', id, '--grace-seconds', '60');
    expect(rotated.code, rotated.err).toBe(0);
    const newKey = /new API key:\s+(pfe_\S+)/.exec(rotated.out)?.[1] ?? '';
    seen.push(newKey);
    expect(rotated.out).toContain(`old key ${key.slice(0, 11)}… works until`);
    expect(rotated.out).toContain('Hand the new key to the enforcer now');
    expect(await works(newKey)).toBe(200);
    expect(await works(key)).toBe(200);

    const revoked = await run('enforcers', 'revoke-key', id, key.slice(0, 11));
    expect(revoked.code, revoked.err).toBe(0);
    expect(revoked.out).toContain('revoked at');
    expect(await works(key)).toBe(401);
    const keys = await run('enforcers', 'keys', id);
    expect(keys.out).toMatch(/active/);
    expect(keys.out).toMatch(/revoked/);

    const unscopedOne = await run('enforcers', 'create', '--name', 'CLI everywhere', '--json');
    expect(unscopedOne.code, unscopedOne.err).toBe(0);
    const json = JSON.parse(unscopedOne.out) as { tenants: unknown; apiKey: string };
    seen.push(json.apiKey);
    expect(json.tenants).toBeNull();
    expect((await run('enforcers', 'create')).code).toBe(2);
    expect((await run('enforcers', 'revoke-key', id)).code).toBe(2);
  });

  it('no key, partner’s or enforcer’s, ever reaches the logs', () => {
    // Not vacuous: every request above was logged at debug.
    expect(lines.filter((l) => l.includes('"http.request"')).length).toBeGreaterThan(40);
    expect(seen.length).toBeGreaterThan(10);
    const all = lines.join('\n');
    for (const key of seen) {
      expect(key.length).toBeGreaterThan(40);
      expect(all).not.toContain(key);
    }
  });
});
