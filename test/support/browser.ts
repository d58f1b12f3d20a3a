import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { CaughtMail } from './smtpCatcher.js';
import { useSuiteResource } from './suiteResource.js';

// Debian's Chromium, driven by playwright-core: `npx playwright install` cannot
// download browsers here (PLATFORM.md). CI installs the package with apt.
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// PLATFORM.md's flags. The fresh `--user-data-dir` is not among them because
// Playwright refuses it in `args`: launch() makes a new temporary profile per
// browser itself and deletes it on close.
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumFlags, timeout: 30_000 });
}

/** Chromium for the describe block this is called in: launched in its beforeAll, closed in its afterAll. */
export const useChromium = (): Browser => useSuiteResource('Chromium', launchChromium, (browser) => browser.close());

const screenshotRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts', 'screenshots');

/**
 * Numbered screenshots (full page unless told otherwise) under artifacts/screenshots/<run>/ (git-ignored),
 * so a failed run leaves the steps it got through to look at. The folder starts
 * empty: a shorter run must not leave an earlier run's later steps beside its own.
 */
export async function screenshotTaker(run: string) {
  const dir = path.join(screenshotRoot, run);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let step = 0;
  return {
    dir,
    async take(page: Page, name: string, { fullPage = true }: { fullPage?: boolean } = {}): Promise<string> {
      step += 1;
      const file = path.join(dir, `${String(step).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage });
      return file;
    },
  };
}

export type ScreenshotTaker = Awaited<ReturnType<typeof screenshotTaker>>;

/**
 * Runs a browser test's steps. If they fail, the page they had reached (`currentPage()`) is saved
 * as the screenshot `at-failure` before the error goes on; `cleanUp` (closing the test's browser
 * contexts) runs either way.
 */
export async function runBrowserSteps(shots: ScreenshotTaker, currentPage: () => Page, steps: () => Promise<void>, cleanUp: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (err) {
    await shots.take(currentPage(), 'at-failure').catch(() => undefined);
    throw err;
  } finally {
    await cleanUp();
  }
}

/**
 * Everything a page reports as wrong: console errors, uncaught exceptions,
 * error responses and failed requests, on every page the context opens.
 */
export function collectPageProblems(context: BrowserContext): string[] {
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const source = message.location().url;
      problems.push(`console error on ${page.url()}: ${message.text()}${source && source !== page.url() ? ` (${source})` : ''}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught exception on ${page.url()}: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.request().method()} ${response.url()}`);
    });
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText ?? ''}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return problems;
}

/**
 * Shows an email in the "mail client" tab and clicks one of its links. Email
 * buttons open in a new tab (MJML's target="_blank"), which is returned.
 * Names match exactly: each email also shows its link as text ("…/confirm/…").
 */
export async function clickEmailLink(mailClient: Page, mail: CaughtMail, linkName: string): Promise<Page> {
  if (!mail.parsed.html) throw new Error(`email "${mail.parsed.subject}" has no HTML part`);
  await mailClient.setContent(mail.parsed.html);
  const opened = mailClient.context().waitForEvent('page');
  await mailClient.getByRole('link', { name: linkName, exact: true }).click();
  const page = await opened;
  await page.waitForLoadState();
  return page;
}

/**
 * One person's browser: its own cookies, a "mail client" tab, and everything its pages report as
 * wrong. Steps fail within the test's own budget, with Playwright's message rather than vitest's timeout.
 */
export async function personBrowser(browser: Browser, options: { javaScriptEnabled?: boolean } = {}) {
  const context: BrowserContext = await browser.newContext({ ...options, viewport: { width: 1100, height: 800 } });
  context.setDefaultTimeout(15_000);
  const problems = collectPageProblems(context);
  const mailClient = await context.newPage();
  return { context, problems, mailClient };
}
