import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundlePath, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { projectRoot } from '../config/projectRoot.js';

/** The workflow sources webpack starts from, in the source tree whichever copy of this module runs. */
export const workflowsPath = path.join(projectRoot, 'src', 'workflows', 'index.ts');

/** The workflow interceptors a traced bundle adds (OpenTelemetry; src/infra/tracing.ts). */
const tracingInterceptorsPath = path.join(projectRoot, 'src', 'workflows', 'tracingInterceptors.ts');

/** Where `npm run build` writes the workflow bundle (scripts/buildWorkflowBundle.ts). */
export const prebuiltWorkflowBundlePath = path.join(projectRoot, 'dist', 'workflow-bundle.js');

/** The same with the tracing interceptors, for a worker with tracing on: off, a worker runs no tracing code at all. */
export const prebuiltTracedWorkflowBundlePath = path.join(projectRoot, 'dist', 'workflow-bundle-traced.js');

export interface WorkflowBundleOptions {
  /** With the OpenTelemetry workflow interceptors (src/workflows/tracingInterceptors.ts). */
  traced?: boolean;
}

/** True when this module is the compiled one in dist/ rather than the TypeScript source. */
const runsCompiled = fileURLToPath(import.meta.url).endsWith('.js');

/**
 * Bundles the workflow code from the sources. Sources import `./x.js` (NodeNext
 * ESM), so webpack is told those specifiers may name `.ts` files.
 */
export function bundleWorkflows({ traced = false }: WorkflowBundleOptions = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    ...(traced ? { workflowInterceptorModules: [tracingInterceptorsPath] } : {}),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } },
    }),
  });
}

/** What Worker.create accepts as `workflowBundle`: bundled code, or the path of a prebuilt bundle. */
export type LoadedWorkflowBundle = WorkflowBundleWithSourceMap | WorkflowBundlePath;

/**
 * The workflow code this process's worker runs. Compiled (dist/): the bundle
 * `npm run build` made, so a production worker starts without webpack. From
 * the sources (tests, dev:* scripts): bundled here, as the sources are now.
 */
export async function loadWorkflowBundle(options: WorkflowBundleOptions = {}): Promise<LoadedWorkflowBundle> {
  if (!runsCompiled) return bundleWorkflows(options);
  const codePath = options.traced ? prebuiltTracedWorkflowBundlePath : prebuiltWorkflowBundlePath;
  if (!existsSync(codePath)) {
    throw new Error(`the prebuilt workflow bundle ${codePath} is missing: run npm run build`);
  }
  return { codePath };
}
