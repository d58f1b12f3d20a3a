import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { demo, demoOffer, tryItBlocks } from '../scripts/demo.js';
import { walkthroughDir, walkthroughShots } from '../scripts/screenshots.js';
import { projectRoot } from '../src/config/projectRoot.js';
import { csrfIn, getPage, linkIn, mailsTo, postForm, subjects, waitFor } from './support/relationshipDriver.js';
import { useTestSystem } from './support/useTestSystem.js';

// The README's "Try it" walk-through, run as written against the test system, so
// the README cannot drift from the code. The commands are the README's own
// blocks (scripts/demo.ts reads them by their `<!-- try-it: name -->` markers,
// as `npm run screenshots` does), with two substitutions: the test system's
// address for http://localhost:3000, and `npm run dev:operator` (the same CLI
// from the sources) for `npm run operator` (which needs a build). The customer's
// clicks are made as the browser's form posts; `npm run screenshots` makes them
// in Chromium.

const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
const tryIt = readme.slice(readme.indexOf('## Try it'), readme.indexOf('\n## ', readme.indexOf('## Try it') + 1));
const blocks = tryItBlocks(readme);
/** The section's prose with its line breaks as spaces, for phrases the README wraps. */
const tryItText = tryIt.replace(/\s+/g, ' ');

/** Text as a person reads it: tags dropped, the entities the pages use decoded, spaces collapsed. */
const readable = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** What the README tells the reader to press, in bold, is on the page they press it on. */
function expectPressable(html: string, ...labels: string[]) {
  for (const label of labels) {
    expect(tryItText, `README "Try it" names **${label}**`).toContain(`**${label}**`);
    expect(readable(html), `the page shows "${label}"`).toContain(label);
  }
}

/** The README's example output as a pattern: "…" stands for a value that differs each run. */
const outputPattern = (shown: string) => new RegExp(`^${shown.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^"]+')}$`);

describe('the README walk-through', () => {
  it('shows every picture npm run screenshots takes, in its order, and each is a small PNG', () => {
    const shown = [...tryIt.matchAll(/docs\/walkthrough\/([\w-]+\.png)/g)].map((m) => m[1]);
    expect(shown).toEqual([...walkthroughShots]);
    expect(readdirSync(walkthroughDir).filter((file) => file.endsWith('.png')).sort()).toEqual([...walkthroughShots].sort());
    for (const name of walkthroughShots) {
      const file = path.join(walkthroughDir, name);
      expect(statSync(file).size, name).toBeLessThan(300 * 1024);
      const header = readFileSync(file).subarray(0, 24);
      expect(header.subarray(1, 4).toString('latin1'), name).toBe('PNG');
      const width = header.readUInt32BE(16);
      expect(width, `${name} width`).toBeGreaterThanOrEqual(300);
      expect(width, `${name} width`).toBeLessThanOrEqual(1400);
    }
  });

  it('does by hand exactly what npm run demo does', () => {
    expect(blocks['by-hand-partner']).toBe(`npm run operator -- partners create --name "${demo.partner.name}" --email ${demo.partner.contactEmail}`);
    expect(blocks['by-hand-offer']).toContain(`npm run operator -- tenants put ${demo.tenant.domain} --name ${demo.tenant.name} --admin ${demo.tenant.adminEmail}\n`);
    const body = /-d '([\s\S]+)'$/.exec(blocks['by-hand-offer'])?.[1];
    expect(JSON.parse(body ?? 'null')).toEqual(demoOffer);
    // The test runs the by-hand commands through the CLI's from-sources twin: the same module.
    const scripts = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.operator).toBe('node dist/src/system/operatorMain.js');
    expect(scripts['dev:operator']).toBe('tsx src/system/operatorMain.ts');
    expect(scripts.demo).toBe('tsx scripts/demo.ts');
  });

  describe('against the test system', () => {
    const system = useTestSystem('walkthrough');
    const adminEmail = demo.tenant.adminEmail;

    /** Runs a README block as written (but for the two substitutions above) in bash; its stdout. */
    function run(command: string, env: Record<string, string> = {}): Promise<string> {
      const asHere = command.replaceAll('http://localhost:3000', system.baseUrl).replaceAll('npm run operator --', 'npm run dev:operator --');
      return new Promise((resolve, reject) => {
        const child = spawn('bash', ['-euo', 'pipefail', '-c', asHere], {
          cwd: projectRoot,
          env: { ...process.env, NO_COLOR: '1', PARTNERFLOW_URL: system.baseUrl, OPERATOR_TOKEN: system.operatorToken, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`\`${asHere}\` exited with ${code}:\n${out}\n${err}`))));
      });
    }

    /** The newest invitation email to the demo admin, once there are `count`. */
    const invitationMail = (count: number) =>
      waitFor(() => mailsTo(system, adminEmail, subjects.invitation)[count - 1], { what: `invitation email ${count} to ${adminEmail}`, timeoutMs: 30_000 });

    it('npm run demo, Yes → Next → Start the trial, access allowed, sign-in, Delete → Yes, access denied', async () => {
      // Step 2: npm run demo.
      const printed = await run(blocks.demo);
      const partnerKey = /^export PARTNER_KEY=(pf_\S+)$/m.exec(printed)?.[1];
      const relationshipId = /relationship ([0-9a-f-]{36}), invited/.exec(printed)?.[1];
      expect(partnerKey, printed).toBeDefined();
      expect(relationshipId, printed).toBeDefined();
      const asPartner = { PARTNER_KEY: partnerKey ?? '' };

      // Step 3: the invitation email and its button.
      const invitation = await invitationMail(1);
      expect(tryItText).toContain(`*${invitation.parsed.subject}*`);
      expectPressable(invitation.parsed.html || '', 'Review the request');
      const link = linkIn(invitation.parsed.html || '', '/invitations');

      // Step 4: Yes → Next → Start the trial.
      expectPressable((await getPage(link)).text, 'Yes', 'Next');
      const trialStep = await postForm(link, { choice: 'yes' });
      expect(trialStep.status).toBe(200);
      expectPressable(trialStep.text, 'Start the trial');
      const authorized = await postForm(link, { choice: 'yes', trial: 'start' });
      expect(readable(authorized.text)).toContain(`You authorized ${demo.partner.name}`);
      expectPressable(authorized.text, 'Partner relationships');

      // Step 5: the access check says yes once the trial is made and the relationship active.
      const allowed = await waitFor(async () => {
        const answer = await run(blocks.access, asPartner);
        return answer.includes('"allowed":true') ? answer : undefined;
      }, { what: 'the access check to allow', timeoutMs: 30_000 });
      expect(allowed).toMatch(outputPattern(blocks.allowed));
      expect(allowed).toContain(relationshipId);

      // Step 6: the search the README names finds the workflow.
      const query = /search `(TenantDomain = "[^"]+")`/.exec(tryItText)?.[1];
      expect(query).toBe(`TenantDomain = "${demo.tenant.domain}"`);
      await waitFor(async () => {
        for await (const execution of system.temporal.workflow.list({ query: query ?? '' })) {
          if (execution.workflowId === `relationship-${relationshipId}`) return true;
        }
        return undefined;
      }, { what: `relationship-${relationshipId} in the search ${query}` });

      // Step 7: sign in to Partner relationships by the emailed link and its page's button.
      const jar = new Map<string, string>();
      const signInPage = await getPage(`${system.baseUrl}/partner-relationships`, jar);
      expectPressable(signInPage.text, 'Email me a sign-in link');
      await postForm(`${system.baseUrl}/sign-in`, { tenantDomain: demo.tenant.domain, email: adminEmail }, jar);
      const signInMail = await system.smtp.waitForMail((m) => m.to.includes(adminEmail) && /sign-in link/.test(m.parsed.subject ?? ''), 'the sign-in email');
      expect(tryItText).toContain(`*${signInMail.parsed.subject}*`);
      expectPressable(signInMail.parsed.html || '', 'Sign in');
      const signInLink = linkIn(signInMail.parsed.text ?? '', '/sign-in');
      expectPressable((await getPage(signInLink, jar)).text, `Sign in as ${adminEmail} to ${demo.tenant.name}`);
      expect((await postForm(signInLink, {}, jar)).status).toBe(303);
      const list = await getPage(`${system.baseUrl}/partner-relationships`, jar);
      expect(readable(list.text)).toMatch(new RegExp(`${demo.partner.name} active User administrator, License administrator`));
      expectPressable(list.text, 'Delete');

      // Step 8: Delete → Are you sure? → Yes.
      const confirm = await postForm(`${system.baseUrl}/partner-relationships/${relationshipId}/delete`, { csrf: csrfIn(list.text) }, jar);
      expect(readable(confirm.text)).toContain('Are you sure?');
      expectPressable(confirm.text, 'Yes');
      const removed = await postForm(`${system.baseUrl}/partner-relationships/${relationshipId}/delete/confirm`, { csrf: csrfIn(confirm.text) }, jar);
      expect(readable(removed.text)).toContain(`${demo.partner.name} was removed`);
      const told = await system.smtp.waitForMail((m) => m.to.includes(demo.partner.contactEmail) && subjects.removed.test(m.parsed.subject ?? ''), 'the removed email');
      expect(tryItText).toContain(`*${told.parsed.subject}*`);

      // Step 9: at once, no.
      expect(await run(blocks.access, asPartner)).toMatch(outputPattern(blocks.denied));
    });

    it('the by-hand commands send the same offer', async () => {
      const before = mailsTo(system, adminEmail, subjects.invitation).length;
      const created = await run(blocks['by-hand-partner']);
      const partnerKey = /API key:\s+(pf_\S+)/.exec(created)?.[1];
      expect(partnerKey, created).toBeDefined();
      expect(tryItText).toContain('`export PARTNER_KEY=<that key>`');

      const printed = await run(blocks['by-hand-offer'], { PARTNER_KEY: partnerKey ?? '' });
      const offer = JSON.parse(printed.slice(printed.lastIndexOf('\n{') + 1)) as { id: string; status: string };
      expect(offer.status).toBe('invited');
      const invitation = await invitationMail(before + 1);
      expect(invitation.parsed.subject).toBe(`${demo.partner.name} asks for admin access to ${demo.tenant.name}`);
    });
  });
});
