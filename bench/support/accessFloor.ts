import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

// The floor of the access check: the least any server can do to answer
// GET /api/v1/access?tenant=…&role=… with a partner's Bearer key, in its own
// process. node:http and a pg Pool of the API's size (@prisma/adapter-pg leaves
// pg's default of 10), no framework. Per request: read the Bearer key, sha256 it,
// ONE indexed query (key lookup joined to the grant: an unknown or dead key is no
// row, a live key without the grant is a row with a null relationship), JSON
// {allowed, relationshipId?}. The query is a named prepared statement, parsed
// once per connection. No rate limit, no logging, no metrics: those are what the
// project adds on top and what the comparison is meant to show.
// Started by bench/access.ts (fork, IPC): it reports {port} when listening.

const CHECK_SQL = `
  SELECT g.relationship_id FROM partner_api_keys k
  LEFT JOIN LATERAL (
    SELECT relationship_id FROM role_grants g
    WHERE g.partner_id = k.partner_id AND g.tenant_domain = $2 AND g.role = $3 AND g.revoked_at IS NULL
    LIMIT 1
  ) g ON true
  WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`;

/** The batch form, if the project has one to compare with: every check of the body in one query. */
const BATCH_SQL = `
  SELECT c.n, g.relationship_id FROM partner_api_keys k
  CROSS JOIN unnest($2::text[], $3::text[]) WITH ORDINALITY AS c(tenant, role, n)
  LEFT JOIN LATERAL (
    SELECT relationship_id FROM role_grants g
    WHERE g.partner_id = k.partner_id AND g.tenant_domain = c.tenant AND g.role = c.role AND g.revoked_at IS NULL
    LIMIT 1
  ) g ON true
  WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
  ORDER BY c.n`;

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.FLOOR_POOL_SIZE ?? 10) });

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  if (path === '/healthz') return send(res, 200, { status: 'ok' });
  const key = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (req.method === 'GET' && path === '/api/v1/access') {
    if (!key) return send(res, 401, { title: 'unauthorized' });
    const params = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
    const tenant = params.get('tenant');
    const role = params.get('role');
    if (!tenant || !role) return send(res, 400, { title: 'tenant and role are required' });
    const { rows } = await pool.query<{ relationship_id: string | null }>({ name: 'access-check', text: CHECK_SQL, values: [hash(key), tenant, role] });
    const row = rows[0];
    if (!row) return send(res, 401, { title: 'unauthorized' });
    return send(res, 200, row.relationship_id ? { allowed: true, relationshipId: row.relationship_id } : { allowed: false });
  }
  if (req.method === 'POST' && path === '/api/v1/access/batch') {
    if (!key) return send(res, 401, { title: 'unauthorized' });
    const body = JSON.parse(await readBody(req)) as { checks?: { tenant: string; role: string }[] };
    const checks = body.checks ?? [];
    const { rows } = await pool.query<{ relationship_id: string | null }>({
      name: 'access-batch',
      text: BATCH_SQL,
      values: [hash(key), checks.map((c) => c.tenant), checks.map((c) => c.role)],
    });
    if (rows.length === 0 && checks.length > 0) return send(res, 401, { title: 'unauthorized' });
    return send(res, 200, {
      results: rows.map((r, i) => ({ ...checks[i], ...(r.relationship_id ? { allowed: true, relationshipId: r.relationship_id } : { allowed: false }) })),
    });
  }
  send(res, 404, { title: 'not found' });
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (!res.headersSent) send(res, 500, { title: err instanceof Error ? err.message : String(err) });
  });
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});

// The parent ends the floor with SIGTERM (or its IPC channel closing).
const stop = () => {
  server.closeAllConnections();
  server.close();
  void pool.end().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
