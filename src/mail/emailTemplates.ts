import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { z } from 'zod';
import { emailSamples } from '../../emails/emailSamples.js';
import { projectRoot } from '../config/projectRoot.js';
import {
  emailRegistry,
  emailTemplateNames,
  isEmailTemplateName,
  type EmailData,
  type EmailTemplateName,
} from './templateData.js';

export { emailRegistry, emailTemplateNames, isEmailTemplateName };
export type { EmailData, EmailTemplateName, ParsedEmailData } from './templateData.js';

// MJML costs milliseconds per document, so it runs once per template at start-up
// and leaves the Handlebars placeholders in place; each message then only fills
// a compiled Handlebars template, which costs microseconds.

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface EmailTemplates {
  /** Validates `data` against the template's schema, then fills subject, HTML and text. */
  render<N extends EmailTemplateName>(name: N, data: EmailData<N>): RenderedEmail;
  /** For a name and data from outside the type system, such as a queued job: both are checked. */
  renderUntyped(name: string, data: unknown): RenderedEmail;
}

/** A template that cannot be used: thrown at start-up, naming the template. */
export class EmailTemplateError extends Error {
  constructor(
    readonly template: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`email template "${template}": ${detail}`, options);
    this.name = 'EmailTemplateError';
  }
}

/** The data given for an email does not match its schema; nothing was rendered. */
export class EmailDataError extends Error {
  readonly issues: z.core.$ZodIssue[];

  constructor(
    readonly template: EmailTemplateName,
    error: z.ZodError,
  ) {
    super(`invalid data for email "${template}":\n${z.prettifyError(error)}`);
    this.name = 'EmailDataError';
    this.issues = error.issues;
  }
}

/** `emails/` at the project root, read in place by the sources and by the build in dist/ alike. */
export const defaultEmailsDirectory = path.join(projectRoot, 'emails') + path.sep;

const layoutDirectoryName = 'layout';

// --- Helpers available to every subject, HTML and text template -------------

// Recipients are anywhere, so dates are shown in UTC and say so.
const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

function asDate(value: unknown, helper: string): Date {
  if (!(value instanceof Date)) throw new Error(`{{${helper}}} needs a date, got ${typeof value}`);
  return value;
}

function asCount(value: unknown, helper: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new Error(`{{${helper}}} needs a whole number, got ${typeof value}`);
  }
  return value;
}

function plural(count: unknown, unit: unknown): string {
  const n = asCount(count, 'plural');
  if (typeof unit !== 'string') throw new Error('{{plural}} needs a unit, as in {{plural days "day"}}');
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

const durationUnits: ReadonlyArray<readonly [string, number]> = [
  ['year', 365 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** "2 years", "90 days", "30 seconds": the largest unit that divides the duration exactly. */
function describeDuration(seconds: unknown): string {
  const total = asCount(seconds, 'duration');
  const [unit, size] = durationUnits.find(([, unitSeconds]) => total % unitSeconds === 0) ?? ['second', 1];
  return plural(total / size, unit);
}

const helpers = {
  date: (value: unknown) => dateFormat.format(asDate(value, 'date')),
  dateTime: (value: unknown) => `${dateTimeFormat.format(asDate(value, 'dateTime'))} UTC`,
  duration: describeDuration,
  plural,
  eq: (a: unknown, b: unknown) => a === b,
};

// Templates may call these helpers and Handlebars' built-ins only: a misspelt
// helper fails compilation instead of reading as a missing field, and every
// other `{{name}}` compiles to a plain lookup, which fills faster.
const knownHelpers = Object.fromEntries(Object.keys(helpers).map((name) => [name, true]));

function createHandlebars(): typeof Handlebars {
  // A private instance, so helpers and partials registered here leak nowhere else.
  const hb = Handlebars.create();
  hb.registerHelper(helpers);
  return hb;
}

// --- MJML ---------------------------------------------------------------------

interface MjmlNode {
  line?: unknown;
  content?: unknown;
  attributes?: unknown;
  children?: unknown;
  errors?: unknown;
}

function* walkMjml(node: unknown): Generator<MjmlNode> {
  if (typeof node !== 'object' || node === null) return;
  const current = node as MjmlNode;
  yield current;
  if (Array.isArray(current.children)) {
    for (const child of current.children) yield* walkMjml(child);
  }
}

const mustache = /\{\{[^}]*\}\}/g;

/**
 * MJML (with its shared layout pulled in by mj-include, relative to `file`) to
 * HTML that still holds the Handlebars placeholders. The work the service does
 * once per template at start-up; exported for the benchmark.
 */
export async function mjmlToHtml(source: string, file: string): Promise<string> {
  const result = await mjml2html(source, {
    validationLevel: 'strict',
    filePath: file,
    // Includes are off by default in mjml 5; the layout needs them. They may only
    // reach files inside the template's own folder, which is mjml's default.
    ignoreIncludes: false,
    keepComments: false,
  });

  const placeholders = new Set<string>();
  for (const node of walkMjml(result.json)) {
    // A missing or refused include is not a validation error in mjml: it leaves a
    // comment and carries on, which would send mail without its layout.
    if (Array.isArray(node.errors) && node.errors.length > 0) {
      throw new Error(
        `mj-include failed near line ${String(node.line)} (${JSON.stringify(node.errors)}): the file is missing or outside the emails folder`,
      );
    }
    const attributes: unknown[] =
      typeof node.attributes === 'object' && node.attributes !== null ? Object.values(node.attributes as Record<string, unknown>) : [];
    for (const text of [node.content, ...attributes]) {
      if (typeof text === 'string') for (const match of text.matchAll(mustache)) placeholders.add(match[0]);
    }
  }

  // mjml escapes some attribute values and may rewrite text; a placeholder that
  // did not come through verbatim would render as garbage, so refuse it here.
  const mangled = [...placeholders].filter((placeholder) => !result.html.includes(placeholder));
  if (mangled.length > 0) {
    throw new Error(`placeholders changed by MJML compilation: ${mangled.join(', ')}`);
  }
  // Triple braces turn HTML escaping off: partner-supplied text would become markup.
  if (/\{\{~?\{|\{\{~?\s*&/.test(result.html)) {
    throw new Error('unescaped output ({{{ }}} or {{& }}) is not allowed in HTML templates');
  }
  return result.html;
}

// --- Compiling and rendering ----------------------------------------------------

type Fill = Handlebars.TemplateDelegate<object>;

interface CompiledEmail {
  subject: Fill;
  html: Fill;
  text: Fill;
}

/** mjml's ValidationError lists its findings in `errors`, with line numbers. */
function describeMjmlError(error: unknown): string {
  const findings = (error as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(findings) || findings.length === 0) return messageOf(error);
  const lines = findings.map((finding) => (finding as { formattedMessage?: unknown }).formattedMessage).map(String);
  return `validation failed:\n  ${lines.join('\n  ')}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readTemplateFile(name: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new EmailTemplateError(name, `cannot read ${file}`, { cause: error });
  }
}

async function registerTextPartials(hb: typeof Handlebars, layoutDirectory: string): Promise<void> {
  const files = (await readdir(layoutDirectory)).filter((file) => file.endsWith('.txt.hbs'));
  for (const file of files) {
    hb.registerPartial(file.slice(0, -'.txt.hbs'.length), await readFile(path.join(layoutDirectory, file), 'utf8'));
  }
}

async function compileOne(hb: typeof Handlebars, name: EmailTemplateName, directory: string): Promise<CompiledEmail> {
  const mjmlFile = path.join(directory, `${name}.mjml`);
  const mjmlSource = await readTemplateFile(name, mjmlFile);
  const textSource = await readTemplateFile(name, path.join(directory, `${name}.txt.hbs`));
  let html: string;
  try {
    html = await mjmlToHtml(mjmlSource, mjmlFile);
  } catch (error) {
    throw new EmailTemplateError(name, `MJML: ${describeMjmlError(error)}`, { cause: error });
  }
  const options = { strict: true, knownHelpers, knownHelpersOnly: true };
  return {
    subject: hb.compile(emailRegistry[name].subject, { ...options, noEscape: true }),
    html: hb.compile(html, options),
    text: hb.compile(textSource, { ...options, noEscape: true }),
  };
}

function fill(compiled: CompiledEmail, data: object): RenderedEmail {
  // A subject is one header line however the template wraps.
  const subject = compiled.subject(data).replace(/\s+/g, ' ').trim();
  return {
    subject,
    html: compiled.html({ ...data, subject }),
    // Branches that render nothing leave runs of blank lines behind.
    text: `${compiled.text(data).replace(/\n{3,}/g, '\n\n').trim()}\n`,
  };
}

function build(compiled: Record<EmailTemplateName, CompiledEmail>): EmailTemplates {
  const renderChecked = (name: EmailTemplateName, data: unknown): RenderedEmail => {
    const parsed = emailRegistry[name].schema.safeParse(data);
    if (!parsed.success) throw new EmailDataError(name, parsed.error);
    return fill(compiled[name], parsed.data);
  };
  return {
    render: (name, data) => renderChecked(name, data),
    renderUntyped: (name, data) => {
      if (!isEmailTemplateName(name)) throw new EmailTemplateError(name, 'no such email template');
      return renderChecked(name, data);
    },
  };
}

async function compileAll(directory: string): Promise<EmailTemplates> {
  const hb = createHandlebars();
  await registerTextPartials(hb, path.join(directory, layoutDirectoryName));
  const entries = await Promise.all(
    emailTemplateNames.map(async (name) => [name, await compileOne(hb, name, directory)] as const),
  );
  const compiled = Object.fromEntries(entries) as Record<EmailTemplateName, CompiledEmail>;
  const templates = build(compiled);

  // Handlebars compiles lazily on first use. Rendering every sample now moves that
  // cost to start-up and, in strict mode, fails here on a field a template names
  // but its schema lacks. Two-sided messages are tried with both wordings.
  for (const name of emailTemplateNames) {
    const sample: object = emailSamples[name];
    const variants = 'recipient' in sample ? [{ ...sample, recipient: 'partner' }, { ...sample, recipient: 'customer' }] : [sample];
    try {
      for (const variant of variants) templates.renderUntyped(name, variant);
    } catch (error) {
      throw new EmailTemplateError(name, `does not render its sample data: ${messageOf(error)}`, { cause: error });
    }
  }
  return templates;
}

let defaultTemplates: Promise<EmailTemplates> | undefined;

/**
 * Compiles every email once; call at start-up and keep the result. Rejects with
 * an EmailTemplateError naming the template on any MJML, include or Handlebars
 * problem. Calls for the default directory share one compilation, so a caller
 * that asks per message still pays for it only once.
 */
export function compileEmailTemplates(options: { directory?: string } = {}): Promise<EmailTemplates> {
  if (options.directory !== undefined) return compileAll(options.directory);
  defaultTemplates ??= compileAll(defaultEmailsDirectory).catch((error: unknown) => {
    defaultTemplates = undefined;
    throw error;
  });
  return defaultTemplates;
}
