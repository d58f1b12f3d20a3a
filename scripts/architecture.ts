import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { IConfiguration, ICruiseResult } from 'dependency-cruiser';

// `npm run architecture` rewrites the generated blocks of docs/architecture.md: the
// diagram of the imports between src/'s top-level folders (from the real imports, as
// dependency-cruiser finds them with .dependency-cruiser.js), the table of which
// feature may import which, and the rule table (both from .dependency-cruiser.js).
// `--check` (npm run deps:check, so lint and CI) changes nothing and fails when the
// committed doc differs from a fresh one.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const docFile = path.join(root, 'docs', 'architecture.md');
const configFile = path.join(root, '.dependency-cruiser.js');
const check = process.argv.includes('--check');

type Architecture = {
  parts: Record<string, string[]>;
  featureImports: Record<string, { imports: string[]; why: string }>;
};
const config = ((await import(pathToFileURL(configFile).href)) as { default: IConfiguration & { architecture: Architecture } })
  .default;
const { parts, featureImports } = config.architecture;
const folderPart = new Map(Object.entries(parts).flatMap(([part, folders]) => folders.map((f) => [f, part] as const)));

function cruise(): ICruiseResult {
  const bin = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const run = spawnSync(process.execPath, [bin, 'src', '--config', configFile, '--output-type', 'json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  // A rule violation makes the exit status non-zero and still prints the result.
  if (run.error || !run.stdout.trim()) {
    throw new Error(`dependency-cruiser failed (status ${String(run.status)}): ${run.error?.message ?? run.stderr}`);
  }
  return JSON.parse(run.stdout) as ICruiseResult;
}

const topFolder = (file: string) => /^src\/([^/]+)\//.exec(file)?.[1];

/** Pairs of folders with at least one import between them (`from to`). */
const folderEdges = new Set<string>();

function diagram(result: ICruiseResult): string {
  // One edge per pair of folders: solid when any import between them is a value
  // import, dotted when all are `import type`; red when any breaks a rule.
  const edges = new Map<string, { from: string; to: string; value: boolean; invalid: boolean }>();
  const folders = new Set<string>();
  for (const module of result.modules) {
    const from = topFolder(module.source);
    if (!from) continue;
    folders.add(from);
    for (const dependency of module.dependencies) {
      const to = topFolder(dependency.resolved);
      if (!to || to === from) continue;
      const key = `${from} ${to}`;
      const edge = edges.get(key) ?? { from, to, value: false, invalid: false };
      edge.value ||= !dependency.dependencyTypes.includes('type-only');
      edge.invalid ||= !dependency.valid;
      edges.set(key, edge);
      folderEdges.add(key);
    }
  }
  const unknown = [...folders].filter((f) => !folderPart.has(f));
  if (unknown.length > 0) {
    throw new Error(`src/${unknown.join(', src/')}: in no part; add to PARTS in .dependency-cruiser.js`);
  }

  const lines = ['```mermaid', 'flowchart TD'];
  for (const [part, partFolders] of Object.entries(parts)) {
    const present = partFolders.filter((f) => folders.has(f));
    if (present.length === 0) continue;
    lines.push(`  subgraph part_${part.replace(/\W+/g, '_')}["${part}"]`);
    for (const folder of present) lines.push(`    ${folder}["${folder}"]`);
    lines.push('  end');
  }
  const sorted = [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  for (const edge of sorted) lines.push(`  ${edge.from} ${edge.value ? '-->' : '-.->'} ${edge.to}`);
  const invalid = sorted.flatMap((edge, index) => (edge.invalid ? [index] : []));
  if (invalid.length > 0) lines.push(`  linkStyle ${invalid.join(',')} stroke:#d00,stroke-width:3px`);
  lines.push('```');
  return lines.join('\n');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function featureTable(): string {
  const lines = ['| feature | may import these features | because |', '| --- | --- | --- |'];
  for (const [feature, { imports, why }] of Object.entries(featureImports)) {
    const targets = imports.map((f) => `\`${f}\``).join(', ') || '–';
    lines.push(`| \`${feature}\` | ${targets} | ${cell(why)} |`);
  }
  return lines.join('\n');
}

function ruleTable(): string {
  const lines = ['| rule | what it enforces |', '| --- | --- |'];
  let featureRows = 0;
  for (const rule of config.forbidden ?? []) {
    const name = rule.name ?? '(unnamed)';
    if (/^feature-.+-imports-only-listed-features$/.test(name)) {
      // One row for the family; the feature table above lists each one's imports.
      if (featureRows++ === 0) {
        lines.push(
          '| `feature-<name>-imports-only-listed-features` | a feature imports only the features listed for it in the feature table (one rule per feature) |',
        );
      }
      continue;
    }
    lines.push(`| \`${name}\` | ${cell(rule.comment ?? '')} |`);
  }
  return lines.join('\n');
}

function replaceBlock(doc: string, name: string, body: string): string {
  const begin = `<!-- BEGIN generated ${name}: npm run architecture -->`;
  const end = `<!-- END generated ${name} -->`;
  const start = doc.indexOf(begin);
  const stop = doc.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`${path.relative(root, docFile)}: no "${begin}" ... "${end}" block`);
  return `${doc.slice(0, start + begin.length)}\n${body}\n${doc.slice(stop)}`;
}

const current = readFileSync(docFile, 'utf8');
let fresh = current;
fresh = replaceBlock(fresh, 'diagram', diagram(cruise()));
fresh = replaceBlock(fresh, 'feature imports', featureTable());
fresh = replaceBlock(fresh, 'rules', ruleTable());

// The table is today's imports: an allowance nothing uses would let a new import in unreviewed.
const unused = Object.entries(featureImports).flatMap(([feature, { imports }]) =>
  imports.filter((target) => !folderEdges.has(`${feature} ${target}`)).map((target) => `${feature} -> ${target}`),
);
if (unused.length > 0) {
  console.error(`featureImports in .dependency-cruiser.js allows what no file imports (remove it): ${unused.join(', ')}`);
  process.exitCode = 1;
}

const relative = path.relative(root, docFile);
if (fresh === current) {
  console.log(`${relative} is up to date`);
} else if (check) {
  console.error(`${relative} differs from the imports and .dependency-cruiser.js: run npm run architecture and commit it`);
  process.exitCode = 1;
} else {
  writeFileSync(docFile, fresh);
  console.log(`${relative} rewritten`);
}
