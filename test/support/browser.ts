import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
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

// Keyboard use. The project's types have no DOM library: page scripts are strings, or
// functions that reach the page's globals through `globalThis`.

/** The control that has keyboard focus, as its ARIA role and name (`button "Next"`), or a note saying no control has it. */
export async function focusedControl(page: Page): Promise<string> {
  const focused = page.locator(':focus');
  if ((await focused.count()) === 0) return '(no control: focus is on the page itself)';
  const snapshot = await focused.first().ariaSnapshot({ timeout: 2_000 });
  return (snapshot.split('\n')[0] ?? '').replace(/^- /, '').replace(/:$/, '');
}

/** The focused element's computed focus styles, or null when focus is on the page itself. */
const focusStyleScript = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const s = getComputedStyle(el);
  return { outlineStyle: s.outlineStyle, outlineWidth: s.outlineWidth, outlineColor: s.outlineColor, boxShadow: s.boxShadow, focusVisible: el.matches(':focus-visible') };
})()`;

interface FocusStyle {
  outlineStyle: string;
  outlineWidth: string;
  outlineColor: string;
  boxShadow: string;
  focusVisible: boolean;
}

const transparent = (color: string) => color === 'transparent' || /^rgba\(.*,\s*0\)$/.test(color);

/**
 * Why the focused element shows no focus indicator (undefined when it shows one): it needs a computed
 * outline (a style other than none, a width above 0, a colour that is not transparent) or a box-shadow.
 */
export async function missingFocusIndicator(page: Page): Promise<string | undefined> {
  const style = await page.evaluate<FocusStyle | null>(focusStyleScript);
  if (!style) return 'focus is on the page itself, not on a control';
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 && !transparent(style.outlineColor);
  if (outline || style.boxShadow !== 'none') return undefined;
  return `it shows no focus indicator (outline: ${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}; box-shadow: ${style.boxShadow}; :focus-visible ${style.focusVisible ? 'matches' : 'does not match'})`;
}

const isActiveElement = (el: unknown) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement;

/** Fails unless `target` has keyboard focus and shows a visible focus indicator; says what has focus instead. */
export async function expectFocusOn(page: Page, target: Locator): Promise<void> {
  if (!(await target.evaluate(isActiveElement, undefined, { timeout: 5_000 }))) {
    throw new Error(`expected keyboard focus on ${target.toString()}, but it is on ${await focusedControl(page)} (${page.url()})`);
  }
  const missing = await missingFocusIndicator(page);
  if (missing) throw new Error(`${await focusedControl(page)} has keyboard focus, but ${missing} (${page.url()})`);
}

/**
 * Presses `key` (Tab or Shift+Tab) until `target` has focus, at most `maxPresses` times, and returns
 * every control focus stopped on, in order. Each stop must show a focus indicator; a stop where no
 * control has focus (focus lost) fails at once, as does not reaching `target`.
 */
export async function pressUntilFocused(page: Page, target: Locator, { key = 'Tab', maxPresses = 10 }: { key?: 'Tab' | 'Shift+Tab'; maxPresses?: number } = {}): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < maxPresses; i += 1) {
    await page.keyboard.press(key);
    const stop = await focusedControl(page);
    stops.push(stop);
    const missing = await missingFocusIndicator(page);
    if (missing) throw new Error(`after ${key} × ${i + 1} on ${page.url()}: ${stop}: ${missing}; stops so far: ${stops.join(' → ')}`);
    if (await target.evaluate(isActiveElement, undefined, { timeout: 5_000 })) return stops;
  }
  throw new Error(`${key} × ${maxPresses} on ${page.url()} never reached ${target.toString()}; focus went ${stops.join(' → ')}`);
}
