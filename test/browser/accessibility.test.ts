import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { tourChapters, tourStops, useCustomerPageTour, type TourStop } from '../support/customerPageTour.js';

// Every customer page, in every state the tour reaches (test/support/customerPageTour.ts), checked
// in Chromium by axe-core against WCAG 2.0, 2.1 and 2.2 A and AA, on a desktop (1280 px) and a phone
// (320 px). Besides axe, on each page:
// - exactly one h1, `lang` on <html>, and a <title> that names the step: no two steps share one,
//   and a page shown again with an error in its form says so first ("Error: …");
// - the first Tab lands on the first control, which shows a focus indicator (an outline or a
//   box-shadow in its :focus-visible style);
// - an error about a form is announced (role="alert", or focus moved to it) and tied to the
//   fields it is about (aria-describedby; aria-invalid only on those); no other page marks a field invalid;
// - a table reads the same to a screen reader on the phone, where it is drawn as one block per
//   row, as on the desktop.

const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const widths = [1280, 320] as const;

interface Structure {
  h1s: number;
  lang: string;
  title: string;
  /** The ids of the elements announced as errors: role="alert", or holding focus. */
  announced: string[];
  /** Each form field or fieldset described by something, with what describes it and whether it is marked invalid. */
  described: { control: string; ids: string[]; invalid: boolean }[];
  /** Fields marked invalid that no description explains. */
  invalidUndescribed: string[];
  /** aria-describedby ids that name no element. */
  danglingIds: string[];
}

// Page scripts in strings: the project's types have no DOM library.
const structureScript = `(() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '');
  const ids = (el) => (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
  const announced = [...document.querySelectorAll('[role=alert]'), document.activeElement]
    .filter((el) => el && el !== document.body && el.id)
    .map((el) => el.id);
  const described = [...document.querySelectorAll('form [aria-describedby]')].map((el) => ({ control: name(el), ids: ids(el), invalid: el.getAttribute('aria-invalid') === 'true' }));
  const invalidUndescribed = [...document.querySelectorAll('[aria-invalid=true]')].filter((el) => ids(el).length === 0).map(name);
  const danglingIds = [...document.querySelectorAll('[aria-describedby]')].flatMap(ids).filter((id) => !document.getElementById(id));
  return { h1s: document.querySelectorAll('h1').length, lang: document.documentElement.lang, title: document.title, announced, described, invalidUndescribed, danglingIds };
})()`;

interface FocusAfterTab {
  /** Whether the page has any control Tab could reach. */
  hasControl: boolean;
  /** The focused element, or null when focus stayed on the page itself. */
  focused: string | null;
  focusVisible: boolean;
  outline: string;
  boxShadow: string;
  indicated: boolean;
}

const focusScript = `(() => {
  const hasControl = document.querySelector('a[href], button, input:not([type=hidden]), select, textarea') !== null;
  const el = document.activeElement;
  if (!el || el === document.body) return { hasControl, focused: null, focusVisible: false, outline: '', boxShadow: '', indicated: false };
  const s = getComputedStyle(el);
  const transparent = s.outlineColor === 'transparent' || /rgba\\(.*,\\s*0\\)$/.test(s.outlineColor);
  const outlined = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 && !transparent;
  const text = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || '').replace(/\\s+/g, ' ').trim().slice(0, 40);
  return {
    hasControl,
    focused: el.tagName.toLowerCase() + ' "' + text + '"',
    focusVisible: el.matches(':focus-visible'),
    outline: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor,
    boxShadow: s.boxShadow,
    indicated: outlined || s.boxShadow !== 'none',
  };
})()`;

const blurScript = 'document.activeElement && document.activeElement.blur && document.activeElement.blur()';

async function axeViolations(page: Page, at: string): Promise<string[]> {
  // Legacy mode runs axe in the page itself, without opening a page per run to merge frames' results: the
  // customer pages have no frames, and it is about twice as fast here.
  const results = await new AxeBuilder({ page }).withTags(wcagTags).setLegacyMode(true).analyze();
  return results.violations.flatMap((violation) =>
    violation.nodes.map((node) => `${at}: ${violation.id} (${violation.impact ?? 'no impact given'}): ${violation.help}: ${node.target.join(' ')}: ${node.failureSummary ?? ''}`),
  );
}

/** What a screen reader gets of each table on the page. */
const tableTrees = async (page: Page) => Promise.all((await page.getByRole('table').all()).map((table) => table.ariaSnapshot()));

describe('every customer page is accessible', () => {
  const runChapter = useCustomerPageTour('browser-accessibility');
  /** The <title> of every state the tour reached, for the last test. */
  const titles = new Map<string, { step: string; title: string }>();

  async function inspect(page: Page, stop: TourStop, problems: string[]) {
    const say = (problem: string) => problems.push(`${stop.name}: ${problem}`);
    await page.setViewportSize({ width: 1280, height: 800 });
    const wideTables = await tableTrees(page);

    for (const width of widths) {
      await page.setViewportSize({ width, height: 800 });
      problems.push(...(await axeViolations(page, `${stop.name} at ${width} px`)));
    }
    // The phone draws the list as one block per partner; a screen reader must still get the same table.
    const narrowTables = await tableTrees(page);
    if (JSON.stringify(narrowTables) !== JSON.stringify(wideTables)) {
      say(`a table reads differently at 320 px:\n${narrowTables.join('\n')}\nthan at 1280 px:\n${wideTables.join('\n')}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    const found = await page.evaluate<Structure>(structureScript);
    if (found.h1s !== 1) say(`${found.h1s} h1 elements, not one`);
    if (!found.lang) say('no lang on <html>');
    const step = found.title.replace(/ · partnerflow$/, '');
    if (step === found.title || step.trim() === '') say(`the title "${found.title}" does not name the step`);
    if (stop.formError !== step.startsWith('Error: ')) say(`the title "${found.title}" ${stop.formError ? 'does not start' : 'starts'} with "Error: "`);
    titles.set(stop.name, { step: stop.step, title: found.title });
    for (const id of found.danglingIds) say(`aria-describedby names "${id}", which is not on the page`);
    for (const control of found.invalidUndescribed) say(`${control} is marked invalid, but nothing describes why`);
    if (stop.formError) {
      const tied = found.described.filter((d) => d.ids.some((id) => found.announced.includes(id)));
      if (tied.length === 0) say(`the form error is not both announced (role="alert" or focus) and tied to a field by aria-describedby: ${JSON.stringify(found)}`);
    } else {
      const invalid = found.described.filter((d) => d.invalid);
      if (invalid.length) say(`fields marked invalid on a page without a form error: ${invalid.map((d) => d.control).join(', ')}`);
    }

    // The first Tab reaches the first control, and it shows where focus is.
    await page.keyboard.press('Tab');
    const focus = await page.evaluate<FocusAfterTab>(focusScript);
    if (focus.hasControl) {
      if (!focus.focused) say('Tab reached no control');
      else if (!focus.focusVisible || !focus.indicated) {
        say(`${focus.focused} has focus after Tab but shows no focus indicator (:focus-visible ${focus.focusVisible ? 'matches' : 'does not match'}; outline ${focus.outline}; box-shadow ${focus.boxShadow})`);
      }
    }
    await page.evaluate(blurScript);
  }

  it.each(tourChapters)(
    '$name: no axe violation (WCAG 2.2 AA) at 1280 and 320 px; one h1, lang, title, focus indicator, errors tied to fields',
    async (chapter) => {
      const problems: string[] = [];
      const visited = await runChapter(chapter, (page, stop) => inspect(page, stop, problems));
      expect(problems).toEqual([]);
      expect(visited).toEqual(chapter.stops);
    },
    180_000,
  );

  it('each step has a title of its own', () => {
    expect([...titles.keys()].sort(), 'every state of the tour was reached').toEqual([...tourStops].sort());
    const stepsByTitle = new Map<string, Set<string>>();
    for (const { step, title } of titles.values()) stepsByTitle.set(title, (stepsByTitle.get(title) ?? new Set()).add(step));
    const shared = [...stepsByTitle].filter(([, steps]) => steps.size > 1).map(([title, steps]) => `"${title}": ${[...steps].join(', ')}`);
    expect(shared).toEqual([]);
  });
});
