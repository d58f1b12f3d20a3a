import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { emailSamples } from '../emails/emailSamples.js';
import {
  compileEmailTemplates,
  defaultEmailsDirectory,
  emailRegistry,
  emailTemplateNames,
  mjmlToHtml,
} from '../src/mail/emailTemplates.js';

// What compiling once buys: running MJML for every message (what a naive mailer
// does) against rendering from the compiled templates. Each side renders a fixed
// number of messages round-robin over all templates after a warm-up, under a
// time cap so a slow machine still finishes.

const iterations = 500;
const timeCapNs = 20_000_000_000n;

function at<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('empty list');
  return item;
}

function formatDuration(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}

function report(label: string, started: bigint, done: number): number {
  const perMessageMs = Number(process.hrtime.bigint() - started) / 1e6 / done;
  console.log(`${label.padEnd(40)} ${formatDuration(perMessageMs).padStart(9)} per message (${done} messages)`);
  return perMessageMs;
}

async function measureAsync(label: string, warmUp: number, once: (index: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < warmUp; i += 1) await once(i);
  const started = process.hrtime.bigint();
  let done = 0;
  while (done < iterations && process.hrtime.bigint() - started < timeCapNs) await once(done++);
  return report(label, started, done);
}

// Kept synchronous: awaiting a plain value would add a microtask per message.
function measureSync(label: string, warmUp: number, once: (index: number) => unknown): number {
  for (let i = 0; i < warmUp; i += 1) once(i);
  const started = process.hrtime.bigint();
  let done = 0;
  while (done < iterations && process.hrtime.bigint() - started < timeCapNs) once(done++);
  return report(label, started, done);
}

const sources = await Promise.all(
  emailTemplateNames.map(async (name) => {
    const file = path.join(defaultEmailsDirectory, `${name}.mjml`);
    return { file, source: await readFile(file, 'utf8') };
  }),
);

const compileStarted = performance.now();
const templates = await compileEmailTemplates();
console.log(
  `start-up: compiled ${emailTemplateNames.length} templates once in ${(performance.now() - compileStarted).toFixed(0)} ms\n`,
);

const raw = await measureAsync('raw mjml2html per message', emailTemplateNames.length * 2, (i) => {
  const { source, file } = at(sources, i);
  return mjmlToHtml(source, file);
});
// The JIT needs more rounds to settle on microsecond work than on milliseconds.
const rendered = measureSync('compiled: render (validate + fill)', 2_000, (i) => {
  const name = at(emailTemplateNames, i);
  return templates.renderUntyped(name, emailSamples[name]);
});
const validated = measureSync('  of which zod validation', 2_000, (i) => {
  const name = at(emailTemplateNames, i);
  return emailRegistry[name].schema.parse(emailSamples[name]);
});
const filled = Math.max(rendered - validated, 0);
console.log(`${'  of which fill (subject + HTML + text)'.padEnd(40)} ${formatDuration(filled).padStart(9)} per message (difference)`);

console.log(`\nratio raw / compiled render: ${(raw / rendered).toFixed(0)}×`);
console.log(`ratio raw / compiled fill:   ${(raw / filled).toFixed(0)}×`);
