import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../src/config/projectRoot.js';
import { bundleWorkflows, prebuiltWorkflowBundlePath } from '../src/system/workflowBundle.js';

// The second half of `npm run build` (after tsc): bundles the workflow code
// once, so a compiled worker loads dist/workflow-bundle.js instead of running
// webpack at every start. The bundle is made again only when something it may
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

async function main(): Promise<void> {
  const relative = path.relative(process.cwd(), prebuiltWorkflowBundlePath);
  const bundleTime = (await stat(prebuiltWorkflowBundlePath).catch(() => undefined))?.mtimeMs ?? 0;
  const inputs = [path.join(projectRoot, 'src'), path.join(projectRoot, 'package-lock.json')];
  const inputTime = Math.max(...(await Promise.all(inputs.map(newestMtime))));
  if (bundleTime > inputTime) {
    console.log(`workflow bundle: ${relative} is up to date`);
    return;
  }
  const started = Date.now();
  const { code } = await bundleWorkflows();
  await mkdir(path.dirname(prebuiltWorkflowBundlePath), { recursive: true });
  // Written aside and renamed, so a worker never loads half a bundle.
  const partial = `${prebuiltWorkflowBundlePath}.${process.pid}.tmp`;
  await writeFile(partial, code);
  await rename(partial, prebuiltWorkflowBundlePath);
  console.log(`workflow bundle: wrote ${relative} (${Math.round(code.length / 1024)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((error: unknown) => {
  console.error('workflow bundle failed:', error);
  process.exit(1);
});
