import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config/config.js';
import { LOCAL_SECRET_NAMES, LOCAL_SECRETS_FILE, readLocalSecrets } from '../config/localSecrets.js';
import { runOperatorCli } from '../operator/cli/operatorCli.js';
import { checkConsistency, type ConsistencyOptions } from '../operator/consistency/consistencyCheck.js';
import type { ConsistencyReport } from '../operator/consistency/consistencyReport.js';
import { createProcessLogger, openApiParts } from './system.js';

// `npm run operator`: the operator's command line (src/operator/cli/operatorCli.ts).
// Its commands speak the HTTP API; `check` alone opens the deployment's services,
// built here as for the API, only when it runs.

/**
 * The services' configuration from the environment; on a developer's machine the
 * secrets npm start generated fill what the environment leaves out (the payload
 * keys are needed to read workflow state).
 */
export function checkConfig(env: NodeJS.ProcessEnv, localSecretsFile = LOCAL_SECRETS_FILE) {
  const local = readLocalSecrets(localSecretsFile);
  const filled: NodeJS.ProcessEnv = { ...env };
  for (const name of LOCAL_SECRET_NAMES) filled[name] ??= local[name];
  return loadConfig({ LOG_LEVEL: 'warn', ...filled });
}

export async function runConsistencyCheck(env: NodeJS.ProcessEnv, options: ConsistencyOptions): Promise<ConsistencyReport> {
  const config = checkConfig(env);
  const log = createProcessLogger(config, 'operator-check');
  const parts = await openApiParts(config, log);
  try {
    return await checkConsistency(
      { db: parts.db, temporal: parts.temporal, mailQueue: parts.mailQueue, webhookQueue: parts.webhookQueue, taskQueue: config.TEMPORAL_TASK_QUEUE },
      options,
    );
  } finally {
    await parts.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runOperatorCli(process.argv.slice(2), {
    env: process.env,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    consistencyCheck: (options) => runConsistencyCheck(process.env, options),
  })
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
