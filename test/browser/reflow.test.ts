import { describe, expect, it } from 'vitest';
import { tourChapters, useCustomerPageTour } from '../support/customerPageTour.js';

// Every customer page, in every state the tour reaches (test/support/customerPageTour.ts), on a
// phone 320 CSS px wide (WCAG 1.4.10 Reflow) and a 1280 px desktop, with partner names, tenant
// names, domains and addresses as long as they may be and each one unbroken word:
// - nothing scrolls sideways: document.documentElement.scrollWidth <= window.innerWidth;
// - every button, link and form field is at least 24 × 24 CSS px (WCAG 2.2 2.5.8 Target Size);
// - the Partner relationships list is one block per partner on the phone and a table on the desktop.

const widths = [320, 1280] as const;
const minTarget = 24;

interface Layout {
  scrollWidth: number;
  innerWidth: number;
  /** The outermost visible elements that reach past the window's right edge. */
  tooWide: string[];
  /** Buttons, links and fields smaller than the minimum target. */
  smallTargets: string[];
  /** Each body row of the page's table: its display and whether it fits in the window. */
  rows: { display: string; fits: boolean }[];
  /** Column headers (one word each) that are split across lines. */
  brokenHeaders: string[];
}

// A page script in a string: the project's types have no DOM library.
const measure = `(() => {
  const min = ${minTarget};
  const innerWidth = window.innerWidth;
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const describe = (el) => {
    const text = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '').replace(/\\s+/g, ' ').trim();
    return el.tagName.toLowerCase() + (el.type ? '[type=' + el.type + ']' : '') + ' "' + (text.length > 40 ? text.slice(0, 40) + '…' : text) + '"';
  };
  // What makes the page wide: an element whose box reaches past the window (outermost first), or
  // whose own text runs out of its box (an unbroken word in a heading or a paragraph).
  const beyond = (el) => el.getBoundingClientRect().right > innerWidth + 0.5;
  const spills = (el) => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible';
  const elements = [...document.body.querySelectorAll('*')].filter(visible);
  const tooWide = [
    ...elements
      .filter((el) => beyond(el) && !(el.parentElement && el.parentElement !== document.body && beyond(el.parentElement)))
      .map((el) => describe(el) + ' reaches ' + Math.round(el.getBoundingClientRect().right) + ' px'),
    ...elements
      .filter((el) => spills(el) && ![...el.children].some(spills))
      .map((el) => describe(el) + ' holds ' + el.scrollWidth + ' px of content in ' + el.clientWidth + ' px'),
  ].slice(0, 5);
  const smallTargets = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')]
    .filter(visible)
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([, r]) => r.width + 0.01 < min || r.height + 0.01 < min)
    .map(([el, r]) => describe(el) + ' is ' + r.width.toFixed(1) + ' × ' + r.height.toFixed(1) + ' px');
  const rows = [...document.querySelectorAll('main table tbody tr')].map((row) => {
    const r = row.getBoundingClientRect();
    return { display: getComputedStyle(row).display, fits: r.left >= 0 && r.right <= innerWidth + 0.5 };
  });
  const lineCount = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  };
  const brokenHeaders = [...document.querySelectorAll('main table thead th')]
    .filter(visible)
    .filter((th) => !th.querySelector('.visually-hidden'))
    .filter((th) => th.textContent.trim() !== '' && !/\\s/.test(th.textContent.trim()) && lineCount(th) > 1)
    .map((th) => th.textContent.trim());
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth, tooWide, smallTargets, rows, brokenHeaders };
})()`;

describe('every customer page fits any screen', () => {
  const runChapter = useCustomerPageTour('browser-reflow');

  it.each(tourChapters)(
    '$name: no sideways scrolling at 320 and 1280 px, no target under 24 × 24 px, the list a table only when wide',
    async (chapter) => {
      const problems: string[] = [];
      const visited = await runChapter(chapter, async (page, stop) => {
        for (const width of widths) {
          await page.setViewportSize({ width, height: 800 });
          const at = `${stop.name} at ${width} px`;
          const layout = await page.evaluate<Layout>(measure);
          if (layout.scrollWidth > layout.innerWidth) {
            problems.push(`${at}: scrolls sideways (the document is ${layout.scrollWidth} px wide in a ${layout.innerWidth} px window): ${layout.tooWide.join('; ')}`);
          }
          for (const target of layout.smallTargets) problems.push(`${at}: a target under ${minTarget} × ${minTarget} px: ${target}`);
          // On the phone the header row is only for screen readers (visually hidden); on the desktop it is read.
          if (width !== 320) for (const header of layout.brokenHeaders) problems.push(`${at}: the column header "${header}" is broken mid-word`);
          // One block per partner on the phone; a table with its columns on the desktop.
          const rowDisplay = width === 320 ? 'block' : 'table-row';
          layout.rows.forEach((row, i) => {
            if (row.display !== rowDisplay) problems.push(`${at}: row ${i + 1} of the table is display: ${row.display}, not ${rowDisplay}`);
            if (!row.fits) problems.push(`${at}: row ${i + 1} of the table reaches outside the window`);
          });
        }
        await page.setViewportSize({ width: 1280, height: 800 });
      });
      expect(problems).toEqual([]);
      expect(visited).toEqual(chapter.stops);
    },
    180_000,
  );
});
