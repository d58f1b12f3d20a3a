import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { demo, demoUrls, tryItBlocks } from './demo.js';
import { projectRoot } from './start/paths.js';
import { spawnManaged, type ManagedProcess } from './start/processes.js';
import { httpAnswers, waitUntil } from './start/readiness.js';
import { startTemporalDevServer, type TemporalDevServer } from './temporal.js';

// `npm run screenshots`: the pictures of the README's "Try it" walk-through,
// taken by doing it. Chromium goes through exactly the README's steps and the
// README's commands run as written (test/walkthrough.test.ts runs them too), so
// docs/walkthrough/*.png show what a newcomer sees today.
//
// With partnerflow already up (`npm start`: the API answers on :3000) it uses
// that. Otherwise it starts `npm start` itself on a throw-away state (its own
// database, queue prefix and Temporal dev server, so the pictures show this run
// alone), and stops and deletes all of it at the end. The pictures replace
// docs/walkthrough/*.png only when every step passed.

/** The pictures, in the README's order; the test checks the README shows each one. */
export const walkthroughShots = [
  '01-demo.png',
  '02-inbox-invitation.png',
  '03-invitation.png',
  '04-invitation-phone.png',
  '05-yes-next.png',
  '06-trial.png',
  '07-authorized.png',
  '08-access-allowed.png',
  '09-temporal-search.png',
  '10-temporal-workflow.png',
  '11-sign-in.png',
  '12-inbox-sign-in.png',
  '13-sign-in-confirm.png',
  '14-partner-relationships.png',
  '15-are-you-sure.png',
  '16-removed.png',
  '17-access-denied.png',
] as const;

export type WalkthroughShot = (typeof walkthroughShots)[number];

export const walkthroughDir = path.join(projectRoot, 'docs', 'walkthrough');

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };

const log = (message: string) => process.stdout.write(`screenshots │ ${message}\n`);

// --- The system: the running one, or npm start on a throw-away state -----------

interface System {
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * `npm start`, told to use a fresh database, queue prefix and Temporal dev server,
 * all removed by stop(). `register` gets the system before anything starts, so a
 * Ctrl-C while it starts stops what has started.
 */
async function startScratchSystem(register: (system: System) => void): Promise<System> {
  const tag = `walkthrough_${randomBytes(3).toString('hex')}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'partnerflow-walkthrough-'));
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/partnerflow');
  databaseUrl.pathname = `/partnerflow_${tag}`;
  const queuePrefix = `partnerflow-${tag}`;
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 200) output.shift();
  };

  let temporal: TemporalDevServer | undefined;
  let temporalProcess: ManagedProcess | undefined;
  let app: ManagedProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (app?.running) {
        log('stopping npm start…');
        await app.stop(60_000);
      }
      await (temporal?.process ?? temporalProcess)?.stop();
      await dropDatabase(databaseUrl).catch((error: unknown) => log(`could not drop ${databaseUrl.pathname.slice(1)}: ${String(error)}`));
      await deleteRedisKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', queuePrefix).catch((error: unknown) =>
        log(`could not delete Redis keys ${queuePrefix}:*: ${String(error)}`),
      );
      await rm(dir, { recursive: true, force: true });
      log('stopped, and its data deleted');
    })());

  register({ env: {}, stop });
  try {
    // Our own dev server on npm start's usual ports, with its data in the temporary directory.
    log('starting a Temporal dev server with empty data…');
    temporal = await startTemporalDevServer({
      port: 7233,
      uiPort: 8233,
      dbFile: path.join(dir, 'temporal.db'),
      log,
      onOutput: keep,
      onSpawn: (proc) => (temporalProcess = proc),
    });
    if (stopped) throw new Error('stopped while starting');
    log('starting npm start (it builds first)…');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NO_COLOR: '1',
      DATABASE_URL: databaseUrl.toString(),
      QUEUE_PREFIX: queuePrefix,
      // npm start uses a Temporal server at TEMPORAL_ADDRESS when it is not the one
      // it would run itself (TEMPORAL_PORT): ours, with nothing from earlier runs in it.
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_PORT: '7299',
      TEMPORAL_UI_URL: 'http://localhost:8233',
    };
    let up = false;
    const started = spawnManaged({
      name: 'npm start',
      command: 'npm',
      args: ['start'],
      cwd: projectRoot,
      env,
      graceMs: 60_000,
      onLine: (line) => {
        keep(line);
        if (line.trim() === 'partnerflow is up') up = true;
      },
    });
    app = started;
    const ready = await waitUntil(() => Promise.resolve(up || !started.running), {
      timeoutMs: 600_000,
      intervalMs: 250,
      onProgress: (ms) => log(`waiting for "partnerflow is up"… ${Math.round(ms / 1_000)}s`),
      progressEveryMs: 30_000,
    });
    if (stopped) throw new Error('stopped while starting');
    if (!ready || !up) throw new Error(`npm start did not come up; its last lines:\n${output.slice(-40).join('\n')}`);
    log('partnerflow is up');
    return { env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function dropDatabase(url: URL): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function useOrStartSystem(register: (system: System) => void): Promise<System> {
  const urls = demoUrls(process.env);
  if (await httpAnswers(`${urls.api}/healthz`)) {
    if (!(await httpAnswers(`${urls.inbox}/`, { accept: 'text/html' }))) {
      throw new Error(`partnerflow answers at ${urls.api}, but no inbox at ${urls.inbox}: the walk-through needs npm start's mail catcher (SMTP_URL unset)`);
    }
    log(`using the partnerflow running at ${urls.api} (its inbox and Temporal may show earlier runs too)`);
    return { env: { ...process.env }, stop: () => Promise.resolve() };
  }
  return startScratchSystem(register);
}

// --- The README's commands, run as written ----------------------------------------

/** Runs one README block in bash; its output (stdout then stderr), failing on a non-zero exit. */
function runBlock(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', command], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out + err) : reject(new Error(`\`${command}\` exited with ${code}:\n${out}${err}`))));
  });
}

/** A key shown in a picture: its start only (the pictures are committed). */
const maskKeys = (text: string) => text.replace(/\bpf_([A-Za-z0-9_-]{4})[A-Za-z0-9_-]+/g, 'pf_$1…');

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// --- Chromium ------------------------------------------------------------------------

class Shots {
  constructor(readonly dir: string) {}

  /**
   * The viewport (or the whole page), or with `fit` the top of the page down to
   * just below its <main>: a short page need not be 800 pixels of white.
   */
  async take(page: Page, name: WalkthroughShot, options: { fullPage?: boolean; fit?: boolean } = {}): Promise<void> {
    const file = path.join(this.dir, name);
    const common = { path: file, animations: 'disabled', caret: 'hide' } as const;
    if (options.fit) {
      // These pages are short and not scrolled: the box is where <main> is on the page.
      const box = await page.locator('main').boundingBox();
      const { width, height } = page.viewportSize() ?? desktop;
      const bottom = box ? box.y + box.height : height;
      await page.screenshot({ ...common, clip: { x: 0, y: 0, width, height: Math.min(height, Math.max(320, Math.ceil(bottom) + 40)) } });
    } else {
      await page.screenshot({ ...common, fullPage: options.fullPage ?? false });
    }
    log(`took ${name}`);
  }

  /** A terminal: the command as typed and what it printed, on a page of its own. */
  async terminal(context: BrowserContext, name: WalkthroughShot, command: string, output: string): Promise<void> {
    const page = await context.newPage();
    const text = `<span class="prompt">$</span> ${escapeHtml(command)}\n${escapeHtml(maskKeys(output.trimEnd()))}`;
    await page.setContent(
      `<!doctype html><style>
        body { margin: 0; background: #ffffff; }
        pre { margin: 0; padding: 18px 22px; width: ${desktop.width - 44}px; box-sizing: content-box; background: #1f2430; color: #e6e6e6;
              font: 14px/1.5 'DejaVu Sans Mono', 'Liberation Mono', monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
        .prompt { color: #8ccf7e; }
      </style><pre>${text}</pre>`,
    );
    await page.locator('pre').screenshot({ path: path.join(this.dir, name) });
    await page.close();
    log(`took ${name}`);
  }
}

/** Waits until the inbox lists an email with this subject, then opens the newest such. */
async function openEmail(inbox: Page, subject: string): Promise<void> {
  await inbox.bringToFront();
  const item = inbox.getByText(subject, { exact: true }).first();
  await item.waitFor({ timeout: 30_000 });
  await item.click();
  await inbox.getByRole('heading', { name: subject }).waitFor();
  await inbox.locator('[data-testid="loading-bar"][data-active="false"]').waitFor({ state: 'attached' });
}

/** The email's button, in MailDev's (sandboxed) view of its HTML, scrolled into sight. */
async function emailButton(inbox: Page, name: string) {
  const link = inbox.frameLocator('iframe[title="Email HTML content"]').getByRole('link', { name, exact: true });
  await link.scrollIntoViewIfNeeded();
  return link;
}

/** Ctrl-clicks a link that opens a new tab (what the README says to do in MailDev) and returns the tab. */
async function ctrlClickToNewTab(context: BrowserContext, link: ReturnType<Page['getByRole']>): Promise<Page> {
  const opened = context.waitForEvent('page');
  await link.click({ modifiers: ['Control'] });
  const page = await opened;
  await page.waitForLoadState();
  return page;
}

async function walkThrough(browser: Browser, env: NodeJS.ProcessEnv, shots: Shots): Promise<void> {
  const urls = demoUrls(env);
  const blocks = tryItBlocks();
  const context = await browser.newContext({ viewport: desktop });
  context.setDefaultTimeout(20_000);
  const subject = `${demo.partner.name} asks for admin access to ${demo.tenant.name}`;

  // Step 2: npm run demo.
  const demoCommand = blocks.demo;
  const demoOutput = await runBlock(demoCommand, env);
  const partnerKey = /^export PARTNER_KEY=(\S+)$/m.exec(demoOutput)?.[1];
  const relationshipId = /relationship ([0-9a-f-]{36})/.exec(demoOutput)?.[1];
  if (!partnerKey || !relationshipId) throw new Error(`npm run demo printed no key or relationship:\n${demoOutput}`);
  await shots.terminal(context, '01-demo.png', demoCommand, demoOutput);
  const partnerEnv = { ...env, PARTNER_KEY: partnerKey };

  // Step 3: the inbox, the invitation email, Review the request.
  const inbox = await context.newPage();
  await inbox.goto(urls.inbox);
  await openEmail(inbox, subject);
  const review = await emailButton(inbox, 'Review the request');
  await shots.take(inbox, '02-inbox-invitation.png');
  const invitation = await ctrlClickToNewTab(context, review);
  await invitation.getByRole('heading', { level: 1, name: subject }).waitFor();
  await shots.take(invitation, '03-invitation.png');

  // The same page on a phone (opening the link changes nothing; only the answer does).
  const phoneContext = await browser.newContext({ viewport: phone, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const onPhone = await phoneContext.newPage();
  await onPhone.goto(invitation.url());
  await onPhone.getByRole('heading', { level: 1, name: subject }).waitFor();
  await shots.take(onPhone, '04-invitation-phone.png', { fullPage: true });
  await phoneContext.close();

  // Step 4: Yes → Next → Start the trial.
  await invitation.getByRole('radio', { name: /Yes/ }).check();
  await invitation.getByRole('button', { name: 'Next' }).scrollIntoViewIfNeeded();
  await shots.take(invitation, '05-yes-next.png');
  await invitation.getByRole('button', { name: 'Next' }).click();
  await invitation.getByRole('heading', { level: 1, name: 'One more step: your trial' }).waitFor();
  await shots.take(invitation, '06-trial.png', { fit: true });
  await invitation.getByRole('button', { name: 'Start the trial' }).click();
  await invitation.getByRole('heading', { level: 1, name: `You authorized ${demo.partner.name}` }).waitFor();
  await shots.take(invitation, '07-authorized.png', { fit: true });

  // Step 5: the access check says yes once the relationship is active (the trial takes a moment).
  const accessCommand = blocks.access;
  let allowed = '';
  const isAllowed = await waitUntil(
    async () => {
      allowed = await runBlock(accessCommand, partnerEnv);
      return allowed.includes('"allowed":true');
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  if (!isAllowed) throw new Error(`the access check still says ${allowed}`);
  await shots.terminal(context, '08-access-allowed.png', accessCommand, allowed);

  // Step 6: the Temporal Web UI, searched by TenantDomain, and the workflow.
  const temporal = await context.newPage();
  await temporal.goto(`${urls.temporalUi}/namespaces/${env.TEMPORAL_NAMESPACE ?? 'default'}/workflows`);
  await temporal.getByRole('button', { name: 'Add Filter' }).click();
  await temporal.getByRole('menuitem', { name: /^TenantDomain/ }).click();
  // The UI's value box has no accessible name; its test id is the stable handle.
  const value = temporal.getByTestId(/^dropdown-filter-chip-TenantDomain-\d+-text$/);
  await value.fill(demo.tenant.domain);
  await value.press('Enter');
  await temporal.waitForURL((url) => (url.searchParams.get('query') ?? '').includes(`\`TenantDomain\`="${demo.tenant.domain}"`));
  const workflowId = `relationship-${relationshipId}`;
  await temporal.getByRole('link', { name: workflowId }).waitFor();
  await shots.take(temporal, '09-temporal-search.png');
  await temporal.getByRole('link', { name: workflowId }).click();
  await temporal.getByRole('heading', { name: workflowId }).waitFor();
  // Its User Metadata tab: the summary and current details the workflow keeps up to date.
  await temporal.getByRole('link', { name: 'User Metadata' }).or(temporal.getByRole('tab', { name: 'User Metadata' })).first().click();
  // The UI renders the workflow's Markdown in frames of their own (/render?content=…).
  await temporal
    .frameLocator('iframe[src*="content=**active**"]')
    .getByText(`active · ${demo.partner.name} → ${demo.tenant.domain}`)
    .waitFor();
  await shots.take(temporal, '10-temporal-workflow.png');

  // Step 7: Partner relationships, signed in by the emailed link.
  const customer = invitation;
  await customer.bringToFront();
  await customer.getByRole('link', { name: 'Partner relationships' }).click();
  await customer.getByLabel('Organisation domain').fill(demo.tenant.domain);
  await customer.getByLabel('Admin email').fill(demo.tenant.adminEmail);
  await shots.take(customer, '11-sign-in.png', { fit: true });
  await customer.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await customer.getByText('a sign-in link is on its way').waitFor();

  await openEmail(inbox, 'Your sign-in link for partner relationships');
  const signInButton = await emailButton(inbox, 'Sign in');
  await shots.take(inbox, '12-inbox-sign-in.png');
  const signIn = await ctrlClickToNewTab(context, signInButton);
  const confirm = signIn.getByRole('button', { name: `Sign in as ${demo.tenant.adminEmail} to ` });
  await confirm.waitFor();
  await shots.take(signIn, '13-sign-in-confirm.png', { fit: true });
  await confirm.click();
  await signIn.getByRole('heading', { level: 1, name: 'Partner relationships' }).waitFor();
  await shots.take(signIn, '14-partner-relationships.png', { fit: true });

  // Step 8: Delete → Yes. (This relationship's own form: a running system may list earlier demo runs too.)
  await signIn.locator(`form[action$="/partner-relationships/${relationshipId}/delete"]`).getByRole('button', { name: `Delete ${demo.partner.name}` }).click();
  await signIn.getByRole('heading', { level: 1, name: 'Are you sure?' }).waitFor();
  await shots.take(signIn, '15-are-you-sure.png', { fit: true });
  await signIn.getByRole('button', { name: 'Yes' }).click();
  await signIn.getByRole('heading', { level: 1, name: `${demo.partner.name} was removed` }).waitFor();
  await shots.take(signIn, '16-removed.png', { fit: true });

  // Step 9: the same access check, at once: no.
  const denied = await runBlock(accessCommand, partnerEnv);
  if (!denied.includes('"allowed":false')) throw new Error(`after Delete → Yes the access check says ${denied}`);
  await shots.terminal(context, '17-access-denied.png', accessCommand, denied);

  await context.close();
}

async function main(): Promise<void> {
  const staging = await mkdtemp(path.join(tmpdir(), 'partnerflow-screenshots-'));
  let system: System | undefined;
  let browser: Browser | undefined;
  let stopping: Promise<void> | undefined;
  const cleanUp = () =>
    (stopping ??= (async () => {
      await browser?.close().catch(() => undefined);
      await system?.stop();
      await rm(staging, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Children run in process groups of their own: stopping them in order beats dying at once.
    process.on(signal, () => {
      if (stopping) return log(`${signal}: still stopping…`);
      log(`${signal}: stopping`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    system = await useOrStartSystem((starting) => (system = starting));
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      await walkThrough(browser, system.env, new Shots(staging));
    } catch (error) {
      // Every tab as it was when the step failed, to see why (artifacts/ is git-ignored).
      const failed = path.join(projectRoot, 'artifacts', 'screenshots', 'walkthrough-at-failure');
      await rm(failed, { recursive: true, force: true });
      await mkdir(failed, { recursive: true });
      const pages = browser.contexts().flatMap((context) => context.pages());
      for (const [i, page] of pages.entries()) await page.screenshot({ path: path.join(failed, `tab-${i + 1}.png`) }).catch(() => undefined);
      log(`the tabs at the failure: ${path.relative(projectRoot, failed)}/`);
      throw error;
    }

    // Every step passed: the new pictures replace the old ones.
    await mkdir(walkthroughDir, { recursive: true });
    for (const old of (await readdir(walkthroughDir)).filter((file) => file.endsWith('.png'))) await rm(path.join(walkthroughDir, old));
    for (const name of walkthroughShots) {
      await copyFile(path.join(staging, name), path.join(walkthroughDir, name));
      const { size } = await stat(path.join(walkthroughDir, name));
      log(`${path.relative(projectRoot, path.join(walkthroughDir, name))} ${Math.round(size / 1024)} KB`);
    }
  } finally {
    await cleanUp();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`screenshots │ error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
