import { z } from 'zod';

// One schema per kind of text a person types, used by the API, the customer
// pages, the offer the API hands the workflow and the data of every email, so
// nothing the API accepts can be refused later (an email that fails for ever).
//
// Refused everywhere: control characters (\p{Cc}), invisible format characters
// (\p{Cf}: bidi overrides and isolates U+202A–202E, U+2066–2069, marks U+200E/F,
// soft hyphen, BOM...), line and paragraph separators and lone surrogates. Allowed:
// ZWNJ and ZWJ (U+200C, U+200D), which Persian and Indic names and emoji need and
// which cannot reorder text. Paragraphs (terms, reasons) may contain line breaks.

const JOINERS = /[\u200C\u200D]/gu;
const LINE_BREAK = /[\r\n\u2028\u2029]/u;
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const FORMAT = /[\p{Cf}\p{Cs}]/u;

/** What is wrong with the characters of `value`, or undefined; `multiline` allows \n. */
export function forbiddenCharacters(value: string, { multiline }: { multiline: boolean }): string | undefined {
  const text = multiline ? value.replace(/\r\n/g, '\n') : value;
  if (!multiline && LINE_BREAK.test(text)) return 'must be a single line (no line breaks)';
  if (CONTROL.test(multiline ? text.replace(/\n/g, '') : text)) {
    return multiline ? 'must not contain control characters (line breaks are fine, tabs and others are not)' : 'must not contain control characters such as tabs';
  }
  if (FORMAT.test(text.replace(JOINERS, ''))) return 'must not contain invisible formatting characters such as bidi overrides (U+202E)';
  return undefined;
}

const checked = (multiline: boolean) => (value: string, ctx: z.RefinementCtx) => {
  const problem = forbiddenCharacters(value, { multiline });
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

/** A name shown in subjects, pages and the Web UI: partner, customer, tenant, trial offer. One line. */
export const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .superRefine(checked(false));

/** Free text of several lines, such as a partner's terms or the reason for a step. Windows line ends become \n. */
export const paragraphSchema = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .superRefine(checked(true))
    .transform((value) => value.replace(/\r\n/g, '\n'));

export const TERMS_MAX = 5000;
export const REASON_MAX = 2000;

/** A partner's terms, shown to the customer on the authorization page and in the invitation. */
export const termsSchema = paragraphSchema(TERMS_MAX);

/** Why a step was taken (withdraw, terminate, decline); kept in the audit log and told to the other side. */
export const reasonSchema = paragraphSchema(REASON_MAX);

/**
 * Text from systems rather than people (a trial provider's error, a mail server's
 * refusal) made fit for an email: forbidden characters become spaces, line ends \n,
 * and it is cut to `max`. Never refuses, so such text cannot make an email fail.
 */
export function plainParagraph(value: string, max = TERMS_MAX): string {
  const cleaned = [...value.replace(/\r\n?/g, '\n')]
    .map((ch) => (ch === '\n' || forbiddenCharacters(ch, { multiline: true }) === undefined ? ch : ' '))
    .join('')
    .trim();
  // Cut by whole characters, so no half of a surrogate pair is left at the end.
  let cut = '';
  for (const ch of cleaned) {
    if (cut.length + ch.length > max) break;
    cut += ch;
  }
  return cut;
}

/**
 * An http(s) URL, re-serialised so spaces, quotes and angle brackets come out
 * percent-encoded: safe in an href and the same string everywhere it is stored.
 */
export const httpUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000, 'must be at most 2000 characters')
  .transform((value) => new URL(value).href);
