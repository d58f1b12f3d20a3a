import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../src/config/projectRoot.js';
import { runOperatorCli } from '../src/operator/cli/operatorCli.js';
import { MAIL_WEB_PORT } from './start/services.js';

// `npm run demo`: the start of the README's "Try it" walk-through, against a
// running `npm start`. As the operator (the token npm start keeps in
// .data/secrets.json, or OPERATOR_TOKEN) it creates a partner and registers the
// demo tenant with its admin, so that admin is verified; as the partner (the new
// API key) it sends an offer with a trial. Then it says where to look next.
// test/walkthrough.test.ts runs it as the README shows it, and checks that the
// README's by-hand commands send this same offer.

export const demo = {
  partner: { name: 'Fabrikam IT', contactEmail: 'ops@fabrikam.example' },
  tenant: { domain: 'contoso.example', name: 'Contoso', adminEmail: 'admin@contoso.example' },
} as const;

/** The offer's body, exactly as the README's curl sends it. */
export const demoOffer = {
  customer: { tenantDomain: demo.tenant.domain, adminEmail: demo.tenant.adminEmail, name: demo.tenant.name },
  roles: ['user-administrator', 'license-administrator'],
  terms: 'We manage your users and licences during business hours.',
  trial: { offer: 'Business Premium', seats: 25, days: 30 },
};

/** Where the walk-through's pages are, from the same variables the CLI and npm start read. */
export function demoUrls(env: Record<string, string | undefined>) {
  const api = (env.PARTNERFLOW_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  const temporalUi = (env.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/+$/, '');
  const namespace = env.TEMPORAL_NAMESPACE ?? 'default';
  return {
    api,
    inbox: (env.DEMO_INBOX_URL ?? `http://localhost:${MAIL_WEB_PORT}`).replace(/\/+$/, ''),
    temporalUi,
    /** The Web UI's workflow list, searched by the TenantDomain search attribute. */
    workflowsOfTenant: `${temporalUi}/namespaces/${namespace}/workflows?query=${encodeURIComponent(`TenantDomain="${demo.tenant.domain}"`)}`,
    accessCheck: `${api}/api/v1/access?tenant=${demo.tenant.domain}&role=user-administrator`,
  };
}

/** The README's "Try it" blocks, each marked by `<!-- try-it: name -->` on the line before its fence. */
export const tryItBlockNames = ['demo', 'by-hand-partner', 'by-hand-offer', 'access', 'allowed', 'denied'] as const;
export type TryItBlockName = (typeof tryItBlockNames)[number];

/**
 * The README's walk-through commands (and the answers it shows), as written,
 * for `npm run screenshots` and test/walkthrough.test.ts to run. A name may mark
 * several blocks (the access check is asked twice) only if they are identical.
 */
export function tryItBlocks(readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8')): Record<TryItBlockName, string> {
  const found = new Map<string, string>();
  for (const match of readme.matchAll(/^[ \t]*<!-- try-it: ([a-z-]+) -->\r?\n([ \t]*)```[a-z]*\r?\n([\s\S]*?)\r?\n[ \t]*```/gm)) {
    const [, name = '', indent = '', body = ''] = match;
    // A block inside a list item is indented with it; the command is not.
    const text = body
      .split(/\r?\n/)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
    const earlier = found.get(name);
    if (earlier !== undefined && earlier !== text) throw new Error(`README.md: the blocks marked try-it: ${name} differ`);
    found.set(name, text);
  }
  const blocks = {} as Record<TryItBlockName, string>;
  for (const name of tryItBlockNames) {
    const text = found.get(name);
    if (text === undefined) throw new Error(`README.md has no block marked <!-- try-it: ${name} -->`);
    blocks[name] = text;
  }
  const unknown = [...found.keys()].filter((name) => !(tryItBlockNames as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`README.md marks blocks nothing runs: try-it: ${unknown.join(', ')}`);
  return blocks;
}

class DemoError extends Error {}

type Json = Record<string, unknown>;

/** One operator CLI command with --json; its parsed answer, or its error line as a DemoError. */
async function operator(env: Record<string, string | undefined>, args: string[]): Promise<Json> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperatorCli([...args, '--json'], { env, out: (line) => out.push(line), err: (line) => err.push(line) });
  if (code !== 0) throw new DemoError(`npm run operator -- ${args.join(' ')}: ${err.join('\n') || `exit ${code}`}`);
  return JSON.parse(out.join('\n')) as Json;
}

export interface DemoIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function runDemo({ env, out, err }: DemoIo): Promise<number> {
  const urls = demoUrls(env);
  try {
    const health = await fetch(`${urls.api}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    if (!health?.ok) throw new DemoError(`nothing answers at ${urls.api}/healthz: start partnerflow first (npm start), or set PARTNERFLOW_URL`);

    const partner = await operator(env, ['partners', 'create', '--name', demo.partner.name, '--email', demo.partner.contactEmail]);
    const partnerKey = String(partner.apiKey);
    out(`partner  ${demo.partner.name} (${String(partner.id)}), created by the operator`);

    await operator(env, ['tenants', 'put', demo.tenant.domain, '--name', demo.tenant.name, '--admin', demo.tenant.adminEmail]);
    out(`tenant   ${demo.tenant.domain} (${demo.tenant.name}), registered by the operator: ${demo.tenant.adminEmail} is its verified admin`);

    const res = await fetch(`${urls.api}/api/v1/relationships`, {
      method: 'POST',
      headers: { authorization: `Bearer ${partnerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(demoOffer),
    });
    const offered = (await res.json().catch(() => ({}))) as Json;
    if (res.status !== 201) {
      const said = [offered.title, offered.detail].filter((part): part is string => typeof part === 'string').join(': ');
      throw new DemoError(`the offer was refused: ${res.status} ${said}`.trim());
    }
    const { trial } = demoOffer;
    out(`offer    relationship ${String(offered.id)}, ${String(offered.status)}: ${demoOffer.roles.join(' and ')}, with a ${trial.days}-day ${trial.offer} trial (${trial.seats} seats)`);
    out('');
    out('Next (README.md, "Try it"):');
    out(`  inbox         ${urls.inbox}  open "${demo.partner.name} asks for admin access to ${demo.tenant.name}", then Review the request`);
    out(`  Temporal UI   ${urls.workflowsOfTenant}`);
    out(`  access check  curl -s "${urls.accessCheck}" -H "authorization: Bearer $PARTNER_KEY"`);
    out('');
    out("The partner's API key, for the access check (paste it into your shell; it is not shown again):");
    out(`export PARTNER_KEY=${partnerKey}`);
    return 0;
  } catch (error) {
    err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof DemoError ? 2 : 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runDemo({ env: process.env, out: (line) => console.log(line), err: (line) => console.error(line) })
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
