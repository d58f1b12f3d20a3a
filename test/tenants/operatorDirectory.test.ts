import { beforeAll, describe, expect, it } from 'vitest';
import { runOperatorCli } from '../../src/operator/cli/operatorCli.js';
import { problemSchema, tenantSchema } from '../../src/apiDocs/responseSchemas.js';
import { expectShape, field, uniqueDomain } from '../api/apiHarness.js';
import { auth, createPartner } from '../api/customerFlow.js';
import { useHttpServer, useTestApp } from '../support/useTestApp.js';

// The operator's side of the tenant directory: PUT/GET a tenant, remove an
// admin, the CLI over the same API, and every bad input refused with nothing
// changed. No workflow is involved, so the API runs without a worker.

describe('tenant directory, operator API and CLI', () => {
  const { app, api } = useTestApp();
  const server = useHttpServer(() => app.app);
  let operator: string;
  let partnerKey: string;

  const auditOf = (domain: string) =>
    app.db.auditEvent.findMany({ where: { tenantDomain: domain }, orderBy: { id: 'asc' } }).then((rows) => rows.map((r) => ({ action: r.action, actor: r.actorType, data: r.data })));
  const put = (domain: string, body: unknown, key = operator) => api.put(`/api/v1/admin/tenants/${encodeURIComponent(domain)}`).set(auth(key)).send(body as object);

  beforeAll(async () => {
    operator = app.operatorToken;
    ({ key: partnerKey } = await createPartner(api, operator, 'Some partner', 'ops@partner.example'));
  });

  it('PUT registers (201), updates (200) to exactly the given admins, GET reads it back; every change audited once', async () => {
    const domain = uniqueDomain('op');
    const created = await put(domain, { name: 'Contoso', admins: [`a@${domain}`, `B@${domain.toUpperCase()}`] });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/admin/tenants/${domain}`);
    const tenant = expectShape(tenantSchema, created.body);
    expect(tenant).toMatchObject({ domain, name: 'Contoso', registeredVia: 'operator' });
    // Addresses are kept in lower case, so one person is one admin.
    expect(tenant.admins.map((a) => a.email).sort()).toEqual([`a@${domain}`, `b@${domain}`]);

    const updated = await put(domain, { name: 'Contoso Ltd', admins: [`b@${domain}`, `c@${domain}`] });
    expect(updated.status).toBe(200);
    expect(expectShape(tenantSchema, updated.body).admins.map((a) => a.email).sort()).toEqual([`b@${domain}`, `c@${domain}`]);
    const read = await api.get(`/api/v1/admin/tenants/${domain}`).set(auth(operator));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(updated.body);

    // The same PUT again is a no-op: 200 and no new audit event.
    const before = (await auditOf(domain)).length;
    expect((await put(domain, { name: 'Contoso Ltd', admins: [`c@${domain}`, `b@${domain}`] })).status).toBe(200);
    const audit = await auditOf(domain);
    expect(audit).toHaveLength(before);
    expect(audit.map((a) => a.action)).toEqual([
      'tenant.registered',
      'tenant.adminAdded',
      'tenant.adminAdded',
      'tenant.renamed',
      'tenant.adminAdded',
      'tenant.adminRemoved',
    ]);
    expect(audit.every((a) => a.actor === 'operator')).toBe(true);
  });

  it('one domain, one tenant: upper case, a trailing dot and international names are normalised', async () => {
    const label = uniqueDomain('norm').split('.')[0] ?? 'norm';
    const res = await put(`${label.toUpperCase()}.Example.COM.`, { name: 'Norm', admins: [`admin@${label}.example.com`] });
    expect(res.status).toBe(201);
    expect(field(res, 'domain')).toBe(`${label}.example.com`);
    expect((await put(`${label}.example.com`, { name: 'Norm', admins: [`admin@${label}.example.com`] })).status).toBe(200);

    const idn = `bücher-${label}.example`;
    const created = await put(idn, { name: 'Bücher', admins: ['admin@example.com'] });
    expect(created.status).toBe(201);
    const ascii = String(field(created, 'domain'));
    expect(ascii).toMatch(/^xn--b/);
    expect((await api.get(`/api/v1/admin/tenants/${ascii}`).set(auth(operator))).status).toBe(200);
    expect((await api.get(`/api/v1/admin/tenants/${encodeURIComponent(idn)}`).set(auth(operator))).status).toBe(200);
  });

  it('refuses bad input with a clear 400 and changes nothing', async () => {
    const ok = uniqueDomain('bad');
    const cases: [string, string, unknown][] = [
      ['not a domain', 'not a domain', { name: 'X', admins: ['a@example.com'] }],
      ['an IP address', '192.0.2.1', { name: 'X', admins: ['a@example.com'] }],
      ['an empty label', `a..${ok}`, { name: 'X', admins: ['a@example.com'] }],
      ['two trailing dots', `${ok}..`, { name: 'X', admins: ['a@example.com'] }],
      ['a label starting with a hyphen', `-a.${ok}`, { name: 'X', admins: ['a@example.com'] }],
      ['invalid punycode', 'xn--zz.example', { name: 'X', admins: ['a@example.com'] }],
      ['an underscore', `a_b.${ok}`, { name: 'X', admins: ['a@example.com'] }],
      ['a bidi override', `\u202e${ok}`, { name: 'X', admins: ['a@example.com'] }],
      ['no admin', ok, { name: 'X', admins: [] }],
      ['a bad address', ok, { name: 'X', admins: ['not-an-address'] }],
      ['a name with a line break', ok, { name: 'Contoso\nBcc: x', admins: ['a@example.com'] }],
      ['a name with a bidi override', ok, { name: 'Con\u202etoso', admins: ['a@example.com'] }],
      ['an unknown field', ok, { name: 'X', admins: ['a@example.com'], adminEmail: 'a@example.com' }],
      ['no body', ok, undefined],
    ];
    for (const [what, domain, body] of cases) {
      const res = await put(domain, body);
      expect(res.status, what).toBe(400);
      expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
      expect(expectShape(problemSchema, res.body).type, what).toBe('/problems/validation');
    }
    expect(await app.db.tenant.count({ where: { domain: { contains: ok.split('.')[0] } } })).toBe(0);
    expect(await app.db.auditEvent.count({ where: { tenantDomain: { contains: ok.split('.')[0] } } })).toBe(0);
  });

  it('a partner key on the operator routes is 403, no key 401, and nothing changes', async () => {
    const domain = uniqueDomain('guarded');
    const fresh = uniqueDomain('new');
    expect((await put(domain, { name: 'Guarded', admins: [`real@${domain}`] })).status).toBe(201);
    const attempts = [
      () => put(domain, { name: 'Taken', admins: ['me@evil.test'] }, partnerKey),
      () => put(fresh, { name: 'Mine', admins: ['me@evil.test'] }, partnerKey),
      () => api.get(`/api/v1/admin/tenants/${domain}`).set(auth(partnerKey)),
      () => api.delete(`/api/v1/admin/tenants/${domain}/admins/real@${domain}`).set(auth(partnerKey)),
    ];
    for (const attempt of attempts) expect((await attempt()).status).toBe(403);
    expect((await api.put(`/api/v1/admin/tenants/${domain}`).send({ name: 'X', admins: ['x@example.com'] })).status).toBe(401);
    const tenant = await api.get(`/api/v1/admin/tenants/${domain}`).set(auth(operator));
    expect(tenant.body).toMatchObject({ name: 'Guarded', admins: [{ email: `real@${domain}` }] });
    expect(await app.db.tenant.count({ where: { domain: fresh } })).toBe(0);
    expect(await app.db.tenantAdmin.count({ where: { email: 'me@evil.test' } })).toBe(0);
  });

  it('DELETE removes one admin, never the last one (409 lastAdmin); unknown ones are 404', async () => {
    const domain = uniqueDomain('remove');
    expect((await put(domain, { name: 'Remove', admins: [`a@${domain}`, `b@${domain}`] })).status).toBe(201);
    const removed = await api.delete(`/api/v1/admin/tenants/${domain}/admins/A@${domain}`).set(auth(operator));
    expect(removed.status).toBe(200);
    expect(expectShape(tenantSchema, removed.body).admins.map((a) => a.email)).toEqual([`b@${domain}`]);
    const last = await api.delete(`/api/v1/admin/tenants/${domain}/admins/b@${domain}`).set(auth(operator));
    expect(last.status).toBe(409);
    expect(field(last, 'reason')).toBe('lastAdmin');
    expect((await api.delete(`/api/v1/admin/tenants/${domain}/admins/nobody@${domain}`).set(auth(operator))).status).toBe(404);
    expect((await api.delete(`/api/v1/admin/tenants/${uniqueDomain('none')}/admins/a@example.com`).set(auth(operator))).status).toBe(404);
    expect((await api.get(`/api/v1/admin/tenants/${uniqueDomain('none')}`).set(auth(operator))).status).toBe(404);
    expect((await auditOf(domain)).filter((a) => a.action === 'tenant.adminRemoved')).toHaveLength(1);
  });

  it('two concurrent removals never leave a tenant without an admin', async () => {
    const domain = uniqueDomain('race');
    expect((await put(domain, { name: 'Race', admins: [`a@${domain}`, `b@${domain}`] })).status).toBe(201);
    const results = await Promise.all([`a@${domain}`, `b@${domain}`].map((email) => api.delete(`/api/v1/admin/tenants/${domain}/admins/${email}`).set(auth(operator))));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await app.db.tenantAdmin.count({ where: { tenantDomain: domain } })).toBe(1);
  });

  it('the operator CLI puts, shows and removes admins through the same API', async () => {
    const domain = uniqueDomain('cli');
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runOperatorCli(argv, { env: { PARTNERFLOW_URL: server.url, OPERATOR_TOKEN: operator }, out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const created = await run('tenants', 'put', domain, '--name', 'Cli Corp', '--admin', `one@${domain}`, '--admin', `two@${domain}`);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toContain(`one@${domain}`);
    expect(created.out).toContain('registered via  operator');
    const shown = await run('tenants', 'show', domain, '--json');
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ domain, name: 'Cli Corp' });
    const removed = await run('tenants', 'remove-admin', domain, `one@${domain}`);
    expect(removed.code).toBe(0);
    expect(removed.out).not.toContain(`one@${domain}`);
    const last = await run('tenants', 'remove-admin', domain, `two@${domain}`);
    expect(last.code).toBe(2);
    expect(last.err).toContain('409');
    const bad = await run('tenants', 'put', 'not a domain', '--name', 'X', '--admin', 'a@example.com');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('400');
    expect((await run('tenants', 'put', domain, '--name', 'X')).code).toBe(2);
  });
});
