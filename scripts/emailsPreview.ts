import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { emailSamples } from '../emails/emailSamples.js';
import { projectRoot } from '../src/config/projectRoot.js';
import { compileEmailTemplates, emailTemplateNames } from '../src/mail/emailTemplates.js';

// Renders every email with its sample data so a person can look at them in a
// browser and a text editor. The output is git-ignored.

const outputDirectory = path.join(projectRoot, 'artifacts', 'email-preview');

const templates = await compileEmailTemplates();
await mkdir(outputDirectory, { recursive: true });

for (const name of emailTemplateNames) {
  const { subject, html, text } = templates.render(name, emailSamples[name]);
  const htmlFile = path.join(outputDirectory, `${name}.html`);
  const textFile = path.join(outputDirectory, `${name}.txt`);
  await writeFile(htmlFile, html);
  await writeFile(textFile, text);
  console.log(`${name}: ${subject}\n  ${htmlFile}\n  ${textFile}`);
}
