import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../src/config/projectRoot.js';
import { bundleWorkflows, prebuiltTracedWorkflowBundlePath, prebuiltWorkflowBundlePath, type WorkflowBundleOptions } from '../src/system/workflowBundle.js';

// The second half of `npm run build` (after tsc): bundles the workflow code
// once, so a compiled worker loads dist/workflow-bundle.js (or, tracing on,
// dist/workflow-bundle-traced.js) instead of running webpack at every start. The bundle is made again only when something it may
// contain changed: any source under src/ (workflows import the contract), or the
// installed packages (package-lock.json).

async function newestMtime(entry: string): Promise<number> {
  const info = await stat(entry).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const children = await readdir(entry);
  const times = await Promise.all(children.filter((name) => name !== 'generated').map((name) => newestMtime(path.join(entry, name))));
  return Math.max(info.mtimeMs, ...times);
}

async function writeBundle(bundlePath: string, options: WorkflowBundleOptions, inputTime: number): Promise<void> {
  const relative = path.relative(process.cwd(), bundlePath);
  const bundleTime = (await stat(bundlePath).catch(() => undefined))?.mtimeMs ?? 0;
  if (bundleTime > inputTime) {
    console.log(`workflow bundle: ${relative} is up to date`);
    return;
  }
  const started = Date.now();
  const { code } = await bundleWorkflows(options);
  await mkdir(path.dirname(bundlePath), { recursive: true });
  // Written aside and renamed, so a worker never loads half a bundle.
  const partial = `${bundlePath}.${process.pid}.tmp`;
  await writeFile(partial, code);
  await rename(partial, bundlePath);
  console.log(`workflow bundle: wrote ${relative} (${Math.round(code.length / 1024)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

async function main(): Promise<void> {
  const inputs = [path.join(projectRoot, 'src'), path.join(projectRoot, 'package-lock.json')];
  const inputTime = Math.max(...(await Promise.all(inputs.map(newestMtime))));
  // Two bundles: a worker with tracing off runs no tracing code (src/infra/tracing.ts).
  await writeBundle(prebuiltWorkflowBundlePath, {}, inputTime);
  await writeBundle(prebuiltTracedWorkflowBundlePath, { traced: true }, inputTime);
}

main().catch((error: unknown) => {
  console.error('workflow bundle failed:', error);
  process.exit(1);
});
