import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleVariants } from '../../emails/emailSampleVariants.js';
import { compileEmailTemplates, emailTemplateNames, type EmailTemplates } from '../../src/mail/emailTemplates.js';
import { screenshotTaker, useChromium, type ScreenshotTaker } from '../support/browser.js';

// Every email as a phone shows it: 320 CSS pixels wide (the narrowest common
// screen, and what WCAG's reflow criterion asks for). Only Chromium is needed,
// no service. MJML's Outlook-only markup (fixed 600 px tables inside
// <!--[if mso | IE]> comments) is a comment to every other client, Chromium
// included, so it cannot widen what is measured here, nor should it.

const width = 320;
/** Body copy: no text smaller than this (CSS px). */
const minFontSize = 14;
/** Links and buttons: at least this tall (CSS px), WCAG 2.5.8's minimum target size. */
const minTargetHeight = 24;

interface Measurements {
  lang: string;
  scrollWidth: number;
  /** Visible text set smaller than the minimum: "13px: Relationship ID: …". */
  smallText: string[];
  /** Visible elements with text that reach outside the viewport, so they scroll sideways or are clipped. */
  outside: string[];
  /** Links with any line shorter than the minimum target height. */
  shortLinks: string[];
}

// A string, evaluated in the page: the project's types have no DOM library.
const measure = `(() => {
  const minFontSize = ${minFontSize}, minTargetHeight = ${minTargetHeight}, width = ${width};
  const snippet = (el) => (el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 60);
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const withText = [...document.body.querySelectorAll('*')].filter(
    (el) => visible(el) && [...el.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim() !== ''),
  );
  const smallText = withText
    .map((el) => [parseFloat(getComputedStyle(el).fontSize), el])
    .filter(([size]) => size < minFontSize)
    .map(([size, el]) => size + 'px <' + el.localName + '>: ' + snippet(el));
  const outside = withText
    .filter((el) => [...el.getClientRects()].some((rect) => rect.left < 0 || rect.right > width + 0.5))
    .map((el) => '<' + el.localName + '> ' + Math.round(el.getBoundingClientRect().right) + 'px: ' + snippet(el));
  const links = [...document.body.querySelectorAll('a[href]')].filter(visible);
  const shortLinks = links
    .map((el) => [Math.min(...[...el.getClientRects()].map((rect) => rect.height)), el])
    .filter(([height]) => height < minTargetHeight)
    .map(([height, el]) => height.toFixed(1) + 'px: ' + snippet(el));
  return {
    lang: document.documentElement.lang,
    scrollWidth: document.documentElement.scrollWidth,
    smallText,
    outside,
    shortLinks,
  };
})()`;

describe('every email at 320 px wide in Chromium', () => {
  const browser = useChromium();
  let templates: EmailTemplates;
  let context: BrowserContext;
  let page: Page;
  let shots: ScreenshotTaker;

  beforeAll(async () => {
    templates = await compileEmailTemplates();
    shots = await screenshotTaker('emails-narrow');
    context = await browser.newContext({ viewport: { width, height: 640 } });
    // An email loads nothing from the network; anything it tried would be a bug (and a tracking pixel).
    await context.route('**/*', (route) => route.abort());
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
  });

  const cases = emailTemplateNames.flatMap((name) => sampleVariants(name).map(({ label, data }) => [name, label, data] as const));

  it.each(cases)('%s (%s) reads without sideways scrolling, in body-size text, with tall enough links', async (name, label, data) => {
    const { html } = templates.renderUntyped(name, data);
    await page.setContent(html);
    const found = await page.evaluate<Measurements>(measure);
    await shots.take(page, `${name}-${label.replace(/[^a-z]+/g, '-')}`);

    expect.soft(found.lang).toBe('en');
    expect.soft(found.scrollWidth, 'document.documentElement.scrollWidth').toBeLessThanOrEqual(width);
    expect.soft(found.outside, 'text outside the 320 px viewport').toEqual([]);
    expect.soft(found.smallText, `text smaller than ${minFontSize}px`).toEqual([]);
    expect.soft(found.shortLinks, `links shorter than ${minTargetHeight}px`).toEqual([]);
  });
});
