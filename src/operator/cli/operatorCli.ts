import { parseArgs } from 'node:util';
import { LOCAL_SECRETS_FILE, readLocalSecrets } from '../../config/localSecrets.js';
import { verifyAuditFile, writeLines } from './auditCommand.js';
import { checkCommand, type RunConsistencyCheck } from './checkCommand.js';

// The operator's command line. It speaks the same HTTP API as everyone else
// (with the operator token), so it needs no database or Temporal access of its
// own and can't bypass the API's validation, limits or audit.

const usage = `usage: npm run operator -- <command> [options]

  partners create --name <name> --email <contact email> [--webhook <url>] [--provisioner local|partner]
  partners list
  partners keys <partner id>
  partners rotate-key <partner id> [--grace-seconds <n>]
                       a new API key (shown once); the older keys keep working for
                       the grace period (default 86400, one day; 0 ends them now)
  partners revoke-key <partner id> <key id or prefix>
                       the key stops working at once
  partners pause <partner id> --reason <text>
                       stop all of the partner's access at once: access checks say no,
                       offers and acceptances are refused; grants and timers stay as
                       they are. The partner is told by webhook and email; audited
  partners resume <partner id> --reason <text>
                       restore what was (access yes again where still active)
  enforcers create --name <name> [--tenant <domain> ...]
                       a system that enforces access: its key (shown once) may ask
                       GET /api/v1/access about any partner, in the tenants given
                       (without --tenant: every tenant), and nothing else
  enforcers list
  enforcers keys <enforcer id>
  enforcers rotate-key <enforcer id> [--grace-seconds <n>]
  enforcers revoke-key <enforcer id> <key id or prefix>
                       as for partners
  relationships list [--status <status>] [--partner <partner id>] [--tenant <domain>] [--limit <n>]
  relationships show <relationship id>
  tenants put <domain> --name <name> --admin <email> [--admin <email> ...]
                       register a tenant, or set its name and exactly its admins
  tenants show <domain>
  tenants remove-admin <domain> <email>
  audit export --tenant <domain> | --chain service
                       one audit chain as NDJSON (each event with its seq, previous
                       hash and hash, then the chain's head); redirect it to a file
  audit verify <file>  check an exported chain offline: exit 0 with a summary when
                       intact, 1 naming the first broken link (line, seq, what)
  dead-letters list [--kind mail|webhook] [--limit <n>]
                       emails and webhooks that failed for good, newest first, with
                       the counts by kind (the partnerflow_dead_letters metric)
  dead-letters retry <mail|webhook> <id>
                       send one again: a fresh round of retries under the same delivery id
  check [--partner <partner id>] [--outbox-age-seconds <n>] [--job-age-seconds <n>]
                       the consistency checker, straight on Postgres, Redis and Temporal
                       (the services' own environment: DATABASE_URL, REDIS_URL, TEMPORAL_*,
                       QUEUE_PREFIX, the payload keys): per invariant OK or the offending
                       relationship ids, then the dead letters; exit 1 on any violation.
                       Outbox rows queued longer than --outbox-age-seconds (300) without a
                       job and jobs waiting or active longer than --job-age-seconds (900) count;
                       --partner: that partner's relationships and deliveries only

  --json   print the API's JSON instead of a table

environment: PARTNERFLOW_URL (default http://localhost:3000), OPERATOR_TOKEN
  (unset and PARTNERFLOW_URL on this machine: the token npm start keeps in .data/secrets.json)`;

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Where npm start keeps the local secrets (default .data/secrets.json). */
  localSecretsFile?: string;
  /** The consistency checker on the deployment's services (src/system/operatorMain.ts provides it). */
  consistencyCheck?: RunConsistencyCheck;
}

class CliError extends Error {}

type Json = Record<string, unknown>;

const text = (value: unknown) => (value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value));

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * OPERATOR_TOKEN, or for an API on this machine the token npm start generated.
 * The local file's token is never sent anywhere else: it is the key to the
 * local deployment only, and another server should not learn it.
 */
function operatorToken(io: CliIo, base: string): string {
  if (io.env.OPERATOR_TOKEN) return io.env.OPERATOR_TOKEN;
  let local: boolean;
  try {
    local = LOOPBACK.test(new URL(base).hostname);
  } catch {
    throw new CliError(`PARTNERFLOW_URL is not a URL`);
  }
  if (!local) throw new CliError('OPERATOR_TOKEN is not set');
  const file = io.localSecretsFile ?? LOCAL_SECRETS_FILE;
  const token = readLocalSecrets(file).OPERATOR_TOKEN;
  if (!token) throw new CliError(`OPERATOR_TOKEN is not set, and ${file} has none (npm start writes it)`);
  return token;
}

/** A request with the operator token; a refusal becomes a CliError with the problem's title, detail and field errors. */
async function send(io: CliIo, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: Json): Promise<Response> {
  const base = io.env.PARTNERFLOW_URL ?? 'http://localhost:3000';
  const token = operatorToken(io, base);
  const res = await fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  }).catch((err: unknown) => {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new CliError(`cannot reach the API at ${base} (${cause}); set PARTNERFLOW_URL`);
  });
  if (res.ok) return res;
  const json = (await res.json().catch(() => ({}))) as Json;
  const errors = Array.isArray(json.errors) ? (json.errors as { path: string; message: string }[]).map((e) => `\n  ${e.path}: ${e.message}`).join('') : '';
  throw new CliError(`${res.status} ${text(json.title ?? res.statusText)}: ${text(json.detail)}${errors}`);
}

async function call(io: CliIo, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: Json): Promise<Json> {
  const res = await send(io, method, path, body);
  return (await res.json().catch(() => ({}))) as Json;
}

function table(io: CliIo, rows: Record<string, string>[]): void {
  if (rows.length === 0) return io.out('(none)');
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  io.out(line(columns));
  for (const row of rows) io.out(line(columns.map((c) => row[c] ?? '')));
}


function printTenant(io: CliIo, tenant: Json, asJson: boolean): void {
  if (asJson) return io.out(JSON.stringify(tenant, null, 2));
  io.out(`${'domain'.padEnd(16)}${text(tenant.domain)}`);
  io.out(`${'name'.padEnd(16)}${text(tenant.name)}`);
  io.out(`${'registered via'.padEnd(16)}${text(tenant.registeredVia)}`);
  io.out('admins:');
  for (const admin of (tenant.admins as Json[] | undefined) ?? []) io.out(`  ${text(admin.email)}  (${text(admin.addedVia)}, ${text(admin.verifiedAt)})`);
}

async function tenantCommand(io: CliIo, verb: string | undefined, args: string[], values: { name?: string; admin?: string[]; json: boolean }): Promise<number> {
  const [domain, email] = args;
  if (!domain) throw new CliError(`tenants ${verb ?? ''} needs a domain\n\n${usage}`);
  const path = `/api/v1/admin/tenants/${encodeURIComponent(domain)}`;
  if (verb === 'put') {
    if (!values.name || !values.admin?.length) throw new CliError('tenants put needs --name and at least one --admin');
    const tenant = await call(io, 'PUT', path, { name: values.name, admins: values.admin });
    printTenant(io, tenant, values.json);
    return 0;
  }
  if (verb === 'show') {
    printTenant(io, await call(io, 'GET', path), values.json);
    return 0;
  }
  if (verb === 'remove-admin') {
    if (!email) throw new CliError('tenants remove-admin needs a domain and an email');
    printTenant(io, await call(io, 'DELETE', `${path}/admins/${encodeURIComponent(email)}`), values.json);
    return 0;
  }
  throw new CliError(`unknown command: tenants ${verb ?? ''}\n\n${usage}`);
}

const keyRow = (k: Json) => ({ id: text(k.id), prefix: `${text(k.prefix)}…`, status: text(k.status), created: text(k.createdAt), expires: text(k.expiresAt), revoked: text(k.revokedAt) });

/** keys, rotate-key and revoke-key: the same for a partner's keys and an enforcer's. */
async function keyCommand(
  io: CliIo,
  noun: 'partners' | 'enforcers',
  verb: string,
  args: string[],
  values: { graceSeconds: string | undefined; json: boolean },
): Promise<number> {
  const holder = noun === 'partners' ? 'partner' : 'enforcer';
  const [holderId, key] = args;
  if (!holderId) throw new CliError(`${noun} ${verb} needs ${holder === 'partner' ? 'a' : 'an'} ${holder} id\n\n${usage}`);
  const path = `/api/v1/admin/${noun}/${encodeURIComponent(holderId)}/keys`;
  if (verb === 'keys') {
    const json = await call(io, 'GET', path);
    if (values.json) io.out(JSON.stringify(json, null, 2));
    else table(io, ((json.keys as Json[] | undefined) ?? []).map(keyRow));
    return 0;
  }
  if (verb === 'rotate-key') {
    const grace = values.graceSeconds;
    if (grace !== undefined && !/^\d+$/.test(grace)) throw new CliError('--grace-seconds must be a whole number of seconds');
    const json = await call(io, 'POST', path, grace === undefined ? {} : { graceSeconds: Number(grace) });
    if (values.json) {
      io.out(JSON.stringify(json, null, 2));
      return 0;
    }
    io.out(`new API key:    ${text(json.apiKey)}`);
    for (const old of (json.previousKeys as Json[] | undefined) ?? []) io.out(`old key ${text(old.prefix)}… works until ${text(old.expiresAt)}`);
    io.out(`Hand the new key to the ${holder} now: it is not shown again.`);
    return 0;
  }
  if (!key) throw new CliError(`${noun} revoke-key needs ${holder === 'partner' ? 'a' : 'an'} ${holder} id and a key id or prefix`);
  const json = await call(io, 'DELETE', `${path}/${encodeURIComponent(key)}`);
  if (values.json) io.out(JSON.stringify(json, null, 2));
  else io.out(`key ${text(json.prefix)}… revoked at ${text(json.revokedAt)}`);
  return 0;
}

/** partners pause|resume: the operator's switch for all of one partner's access (src/partners/partnerPause.ts). */
async function pauseCommand(io: CliIo, verb: 'pause' | 'resume', partnerId: string | undefined, values: { reason?: string; json: boolean }): Promise<number> {
  if (!partnerId || !values.reason) throw new CliError(`partners ${verb} needs a partner id and --reason <text> (audited and told to the partner)`);
  const json = await call(io, 'POST', `/api/v1/admin/partners/${encodeURIComponent(partnerId)}/${verb}`, { reason: values.reason });
  if (values.json) io.out(JSON.stringify(json, null, 2));
  else if (!json.changed) io.out(`partner ${text(json.id)} (${text(json.name)}) was already ${json.paused ? `paused since ${text(json.pausedAt)}` : 'not paused'}: nothing changed`);
  else if (json.paused) io.out(`partner ${text(json.id)} (${text(json.name)}) paused at ${text(json.pausedAt)}; it is told by webhook and email`);
  else io.out(`partner ${text(json.id)} (${text(json.name)}) resumed; it is told by webhook and email`);
  return 0;
}

/** dead-letters list|retry: deliveries that failed for good (src/operator/deadLetterRoutes.ts). */
async function deadLetterCommand(io: CliIo, verb: string | undefined, args: string[], values: { kind?: string; limit?: string; json: boolean }): Promise<number> {
  if (verb === 'list') {
    const query = new URLSearchParams();
    if (values.kind) query.set('kind', values.kind);
    if (values.limit) query.set('limit', values.limit);
    const json = await call(io, 'GET', `/api/v1/admin/dead-letters${query.size ? `?${query.toString()}` : ''}`);
    if (values.json) {
      io.out(JSON.stringify(json, null, 2));
      return 0;
    }
    const counts = json.counts as Json;
    io.out(`dead letters: ${text(counts.mail)} email(s), ${text(counts.webhook)} webhook(s)`);
    const rows = (json.deadLetters as Json[]).map((d) => ({
      kind: text(d.kind),
      id: text(d.id),
      what: text(d.what),
      to: text(d.to),
      attempts: text(d.attempts),
      failed: text(d.failedAt),
      error: text(d.error).slice(0, 80),
    }));
    if (rows.length) table(io, rows);
    return 0;
  }
  if (verb === 'retry') {
    const [kind, id] = args;
    if (!kind || !id) throw new CliError('dead-letters retry needs a kind (mail or webhook) and an id (from dead-letters list)');
    const json = await call(io, 'POST', `/api/v1/admin/dead-letters/${encodeURIComponent(kind)}/${encodeURIComponent(id)}/retry`);
    if (values.json) io.out(JSON.stringify(json, null, 2));
    else io.out(`${text(json.kind)} ${text(json.jobId)} (${text(json.what)} to ${text(json.to)}) queued again`);
    return 0;
  }
  throw new CliError(`unknown command: dead-letters ${verb ?? ''}\n\n${usage}`);
}

/** Runs one command; returns the process exit code. */
export async function runOperatorCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        email: { type: 'string' },
        webhook: { type: 'string' },
        provisioner: { type: 'string' },
        kind: { type: 'string' },
        status: { type: 'string' },
        partner: { type: 'string' },
        tenant: { type: 'string', multiple: true },
        limit: { type: 'string' },
        admin: { type: 'string', multiple: true },
        'grace-seconds': { type: 'string' },
        chain: { type: 'string' },
        reason: { type: 'string' },
        'outbox-age-seconds': { type: 'string' },
        'job-age-seconds': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [noun, verb, arg] = positionals;
    const print = (json: Json, rows: () => Record<string, string>[]) => (values.json ? io.out(JSON.stringify(json, null, 2)) : table(io, rows()));

    if (values.help || !noun) {
      io.out(usage);
      return values.help ? 0 : 2;
    }
    if (noun === 'partners' && verb === 'create') {
      if (!values.name || !values.email) throw new CliError('partners create needs --name and --email');
      const created = await call(io, 'POST', '/api/v1/admin/partners', {
        name: values.name,
        contactEmail: values.email,
        ...(values.webhook ? { webhookUrl: values.webhook } : {}),
        ...(values.provisioner ? { provisioner: values.provisioner } : {}),
      });
      if (values.json) io.out(JSON.stringify(created, null, 2));
      else {
        io.out(`partner ${text(created.id)} (${text(created.name)})`);
        io.out(`API key:        ${text(created.apiKey)}`);
        io.out(`webhook secret: ${text(created.webhookSecret)}`);
        io.out('Hand these to the partner now: they are not shown again.');
      }
      return 0;
    }
    if (noun === 'partners' && verb === 'list') {
      const json = await call(io, 'GET', '/api/v1/admin/partners');
      print(json, () =>
        (json.partners as Json[]).map((p) => ({ id: text(p.id), name: text(p.name), contact: text(p.contactEmail), key: `${text(p.apiKeyPrefix)}…`, created: text(p.createdAt), paused: text(p.pausedAt) })),
      );
      return 0;
    }
    if ((noun === 'partners' || noun === 'enforcers') && (verb === 'keys' || verb === 'rotate-key' || verb === 'revoke-key')) {
      return await keyCommand(io, noun, verb, positionals.slice(2), { graceSeconds: values['grace-seconds'], json: values.json });
    }
    if (noun === 'partners' && (verb === 'pause' || verb === 'resume')) return await pauseCommand(io, verb, arg, values);
    if (noun === 'enforcers' && verb === 'create') {
      if (!values.name) throw new CliError('enforcers create needs --name (and --tenant <domain> for each tenant it may ask about; none: every tenant)');
      const created = await call(io, 'POST', '/api/v1/admin/enforcers', { name: values.name, ...(values.tenant?.length ? { tenants: values.tenant } : {}) });
      if (values.json) io.out(JSON.stringify(created, null, 2));
      else {
        const tenants = created.tenants as string[] | null;
        io.out(`enforcer ${text(created.id)} (${text(created.name)})`);
        io.out(`tenants:        ${tenants ? tenants.join(', ') : 'every tenant'}`);
        io.out(`enforcer key:   ${text(created.apiKey)}`);
        io.out('Hand it to the enforcing system now: it is not shown again. It may ask GET /api/v1/access?partner=<id>&tenant=…&role=… and nothing else.');
      }
      return 0;
    }
    if (noun === 'enforcers' && verb === 'list') {
      const json = await call(io, 'GET', '/api/v1/admin/enforcers');
      print(json, () =>
        (json.enforcers as Json[]).map((e) => ({
          id: text(e.id),
          name: text(e.name),
          tenants: Array.isArray(e.tenants) ? (e.tenants as string[]).join(',') : '(every tenant)',
          keys: ((e.keys as Json[] | undefined) ?? []).map((k) => `${text(k.prefix)}… ${text(k.status)}`).join(', '),
          created: text(e.createdAt),
        })),
      );
      return 0;
    }
    if (noun === 'relationships' && verb === 'list') {
      const query = new URLSearchParams();
      if (values.status) query.set('status', values.status);
      if (values.partner) query.set('partnerId', values.partner);
      if ((values.tenant?.length ?? 0) > 1) throw new CliError('relationships list takes one --tenant');
      if (values.tenant?.[0]) query.set('tenant', values.tenant[0]);
      if (values.limit) query.set('limit', values.limit);
      const json = await call(io, 'GET', `/api/v1/relationships${query.size ? `?${query.toString()}` : ''}`);
      print(json, () =>
        (json.relationships as Json[]).map((r) => ({
          id: text(r.id),
          status: text(r.status),
          partner: text(r.partnerId),
          tenant: text((r.customer as Json | undefined)?.tenantDomain),
          roles: (r.roles as string[]).join(','),
          ends: text(r.endedAt ?? r.endsAt),
        })),
      );
      return 0;
    }
    if (noun === 'relationships' && verb === 'show') {
      if (!arg) throw new CliError('relationships show needs a relationship id');
      const json = await call(io, 'GET', `/api/v1/relationships/${encodeURIComponent(arg)}`);
      if (values.json) io.out(JSON.stringify(json, null, 2));
      else {
        for (const key of ['id', 'status', 'partnerId', 'roles', 'invitationExpiresAt', 'activatedAt', 'endsAt', 'endedAt', 'workflowId'] as const) {
          io.out(`${key.padEnd(20)}${text(json[key])}`);
        }
        io.out(`${'tenant'.padEnd(20)}${text((json.customer as Json | undefined)?.tenantDomain)}`);
        io.out(`${'temporal ui'.padEnd(20)}${text((json.links as Json | undefined)?.temporalUi)}`);
        for (const t of (json.transitions as Json[] | undefined) ?? []) {
          io.out(`  ${text(t.at)}  ${text(t.from) || '·'} → ${text(t.to)}  by ${text((t.actor as Json | undefined)?.type)}${t.reason ? `: ${text(t.reason)}` : ''}`);
        }
      }
      return 0;
    }
    if (noun === 'tenants') return await tenantCommand(io, verb, positionals.slice(2), values);
    if (noun === 'audit' && verb === 'verify') {
      if (!arg) throw new CliError('audit verify needs a file (from audit export or the Download audit log link)');
      return await verifyAuditFile(arg, io.out).catch((err: unknown) => {
        throw new CliError(`cannot read ${arg}: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    if (noun === 'audit' && verb === 'export') {
      const tenant = values.tenant ?? [];
      if (tenant.length + (values.chain ? 1 : 0) !== 1) throw new CliError('audit export needs one --tenant <domain> or --chain service');
      const query = tenant[0] ? `tenant=${encodeURIComponent(tenant[0])}` : `chain=${encodeURIComponent(values.chain ?? '')}`;
      const res = await send(io, 'GET', `/api/v1/admin/audit?${query}`);
      if (res.body) await writeLines(res.body, io.out);
      return 0;
    }
    if (noun === 'dead-letters') return await deadLetterCommand(io, verb, positionals.slice(2), values);
    if (noun === 'check') {
      if (!io.consistencyCheck) throw new CliError('check needs the services: run it as npm run operator -- check');
      const ms = (flag: string, value: string | undefined) => {
        if (value === undefined) return {};
        if (!/^\d+$/.test(value)) throw new CliError(`--${flag} must be a whole number of seconds`);
        return { [flag === 'outbox-age-seconds' ? 'outboxAgeMs' : 'jobAgeMs']: Number(value) * 1_000 };
      };
      const options = {
        ...ms('outbox-age-seconds', values['outbox-age-seconds']),
        ...ms('job-age-seconds', values['job-age-seconds']),
        ...(values.partner ? { partnerIds: [values.partner] } : {}),
      };
      return await checkCommand(io.consistencyCheck, options, values.json, io.out);
    }
    throw new CliError(`unknown command: ${positionals.join(' ')}\n\n${usage}`);
  } catch (err) {
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return err instanceof CliError ? 2 : 1;
  }
}
