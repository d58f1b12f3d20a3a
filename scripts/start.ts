import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../src/config/config.js';
import { ensureLocalSecrets, LOCAL_SECRET_NAMES, LOCAL_SECRETS_FILE } from '../src/config/localSecrets.js';
import { checkPostgres, checkRedis } from '../src/infra/preflight.js';
import { CODEC_PATH } from '../src/operator/codecRoutes.js';
import { DEV_DNS_HOST, devDnsPortFromEnv, recordsFileFromEnv, startDevDnsServer } from './dns.js';
import { createSay, paint, taggedSink } from './start/output.js';
import { entryFile, projectRoot, runsCompiled } from './start/paths.js';
import type { ManagedProcess } from './start/processes.js';
import { abortWhen, httpAnswers, waitUntil, workerPolling } from './start/readiness.js';
import { MAIL_HOST, MAIL_SMTP_PORT, runMigrations, spawnApp, startMailCatcher } from './start/services.js';
import { Supervisor } from './start/supervisor.js';
import { startTemporalDevServer, temporalPortsFromEnv } from './temporal.js';

// `npm start`: Temporal dev server, migrations, mail catcher, DNS server, worker and API,
// with one combined log and one Ctrl-C that stops them all.

const say = createSay('start');

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

/**
 * Puts the local secrets into this process's environment, where loadConfig and
 * every child read them; a value already in the environment wins. Says where the
 * operator token is, never the token.
 */
function useLocalSecrets(): string {
  let ensured: ReturnType<typeof ensureLocalSecrets>;
  try {
    ensured = ensureLocalSecrets(LOCAL_SECRETS_FILE, process.env);
  } catch (error) {
    fail(`local secrets: ${messageOf(error)}`);
  }
  for (const name of LOCAL_SECRET_NAMES) process.env[name] = ensured.secrets[name];
  const file = path.relative(process.cwd(), LOCAL_SECRETS_FILE) || LOCAL_SECRETS_FILE;
  if (ensured.generated.length > 0) say.info(`generated ${ensured.generated.join(', ')} into ${file} (readable by you only)`);
  return ensured.fromEnvironment.includes('OPERATOR_TOKEN') ? 'OPERATOR_TOKEN from the environment' : `OPERATOR_TOKEN in ${file}`;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

/** The API as the developer's browser reaches it: same site as the Web UI at localhost, so its cookie goes along. */
const localApiUrl = (config: Config) => `http://localhost:${config.PORT}`;

interface Plan {
  /** Port to run the dev server on, or undefined when TEMPORAL_ADDRESS is someone else's server. */
  temporalPort: number | undefined;
  temporalUiPort: number;
  temporalAddress: string;
  temporalUiUrl: string;
  /** False when SMTP_URL was given: mail goes there and no catcher starts. */
  startMail: boolean;
  smtpUrl: string;
  /** Port of the local DNS server, or undefined when DNS_SERVERS was given: lookups go there. */
  dnsPort: number | undefined;
  env: NodeJS.ProcessEnv;
}

function plan(config: Config): Plan {
  let ports: { port: number; uiPort: number };
  try {
    ports = temporalPortsFromEnv();
  } catch (error) {
    fail(messageOf(error));
  }
  const requested = process.env.TEMPORAL_ADDRESS ? config.TEMPORAL_ADDRESS : `127.0.0.1:${ports.port}`;
  const [host = '', portText = ''] = requested.split(':');
  const local = LOOPBACK_HOSTS.has(host) && Number(portText) === ports.port;
  // The dev server listens on 127.0.0.1 only; "localhost" may resolve to ::1 first.
  const temporalAddress = local ? `127.0.0.1:${ports.port}` : requested;
  const temporalUiUrl = local && !process.env.TEMPORAL_UI_URL ? `http://localhost:${ports.uiPort}` : config.TEMPORAL_UI_URL;
  const startMail = !process.env.SMTP_URL;
  const smtpUrl = startMail ? `smtp://${MAIL_HOST}:${MAIL_SMTP_PORT}` : config.SMTP_URL;
  let dnsPort: number | undefined;
  try {
    dnsPort = config.DNS_SERVERS === undefined ? devDnsPortFromEnv() : undefined;
  } catch (error) {
    fail(messageOf(error));
  }
  return {
    temporalPort: local ? ports.port : undefined,
    temporalUiPort: ports.uiPort,
    temporalAddress,
    temporalUiUrl,
    startMail,
    smtpUrl,
    dnsPort,
    // The children read the same variables; pass the values chosen here so the
    // worker and API talk to exactly the servers this script started.
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_UI_URL: temporalUiUrl,
      SMTP_URL: smtpUrl,
      ...(dnsPort === undefined ? {} : { DNS_SERVERS: `${DEV_DNS_HOST}:${dnsPort}` }),
    },
  };
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

async function main(): Promise<void> {
  const supervisor = new Supervisor(say);
  supervisor.installSignalHandlers();

  const operatorTokenAt = useLocalSecrets();
  const config = loadConfigOrExit();
  const failures = (await Promise.allSettled([checkPostgres(config.DATABASE_URL), checkRedis(config.REDIS_URL)])).flatMap(
    (result) => (result.status === 'rejected' ? [messageOf(result.reason)] : []),
  );
  if (failures.length > 0) {
    for (const failure of failures) process.stderr.write(`error: ${failure}\n`);
    process.exit(1);
  }
  const p = plan(config);
  const dnsOutput = taggedSink('dns', 'gray');
  const track = (longRunning: boolean, graceMs?: number) => (proc: ManagedProcess) =>
    supervisor.add(proc, { longRunning, ...(graceMs === undefined ? {} : { graceMs }) });

  // Independent of each other, so they start together; the apps need all four.
  let inboxUrl: string | undefined;
  try {
    await Promise.all([
      p.temporalPort === undefined
        ? Promise.resolve(say.info(`using the Temporal server at ${p.temporalAddress} (TEMPORAL_ADDRESS); not starting one`))
        : startTemporalDevServer({
            port: p.temporalPort,
            uiPort: p.temporalUiPort,
            namespace: config.TEMPORAL_NAMESPACE,
            // The Web UI decodes payloads through the API (src/operator/codecRoutes.ts).
            codecEndpoint: `${localApiUrl(config)}${CODEC_PATH}`,
            log: say.info,
            onOutput: taggedSink('temporal', 'magenta'),
            onSpawn: track(true, 15_000),
            signal: supervisor.signal,
          }).then((server) => say.info(`Temporal ready at ${server.address}`)),
      p.startMail
        ? startMailCatcher({ env: p.env, signal: supervisor.signal, onSpawn: track(true) }).then((mail) => {
            inboxUrl = mail.inboxUrl;
            say.info(`mail catcher ready: SMTP ${p.smtpUrl}, inbox ${mail.inboxUrl}`);
          })
        : Promise.resolve(say.info(`sending mail through SMTP_URL ${withoutCredentials(p.smtpUrl)}; not starting a mail catcher`)),
      runMigrations({ env: p.env, onSpawn: track(false) }).then(() => say.info('migrations applied')),
      // In this process rather than a child: it is a socket and a file read per
      // query, and it closes when the supervisor exits this process.
      p.dnsPort === undefined
        ? Promise.resolve(say.info(`looking up TXT records through DNS_SERVERS ${config.DNS_SERVERS?.join(',')}; not starting a DNS server`))
        : startDevDnsServer({
            port: p.dnsPort,
            recordsFile: recordsFileFromEnv(),
            log: (line) => dnsOutput(line, 'stdout'),
          }).then((dns) => say.info(`DNS server ready at ${dns.host}:${dns.port} (records: npm run dns -- list)`)),
    ]);
  } catch (error) {
    if (supervisor.shuttingDown) return;
    await supervisor.shutdown(1, messageOf(error));
  }
  if (supervisor.shuttingDown) return;

  const apps = [
    { name: 'worker' as const, entry: 'src/system/workerMain', graceMs: 30_000 },
    // Longer than the API's own drain (SHUTDOWN_GRACE_MS), so in-flight requests finish before any SIGKILL.
    { name: 'api' as const, entry: 'src/system/apiMain', graceMs: config.SHUTDOWN_GRACE_MS + 5_000 },
  ];
  const started: Record<string, ManagedProcess> = {};
  for (const app of apps) {
    const file = entryFile(app.entry);
    if (!existsSync(file)) {
      const hint = runsCompiled ? ' (run npm run build; npm start does)' : '';
      await supervisor.shutdown(1, `${app.name}: ${path.relative(projectRoot, file)} does not exist${hint}; cannot start it`);
    }
    const proc = spawnApp({ name: app.name, file, env: p.env, graceMs: app.graceMs });
    supervisor.add(proc, { longRunning: true, graceMs: app.graceMs });
    started[app.name] = proc;
  }
  const worker = started.worker;
  const api = started.api;
  if (!worker || !api) return;

  const apiUrl = localApiUrl(config);
  const notReady: string[] = [];
  const progress = (what: string) => (elapsed: number) => say.info(`waiting for ${what}… ${Math.round(elapsed / 1_000)}s`);
  try {
    await Promise.all([
      p.temporalPort === undefined
        ? Promise.resolve(true)
        : waitUntil(() => workerPolling(p.temporalAddress, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE, worker.startedAt), {
            timeoutMs: 60_000,
            intervalMs: 500,
            signal: abortWhen(worker.exited, () => new Error('worker exited'), supervisor.signal),
            onProgress: progress(`the worker to poll task queue ${config.TEMPORAL_TASK_QUEUE}`),
          }).then((ok) => ok || notReady.push(`worker not polling task queue ${config.TEMPORAL_TASK_QUEUE} yet`)),
      waitUntil(() => httpAnswers(`${apiUrl}/healthz`), {
        timeoutMs: 60_000,
        intervalMs: 300,
        signal: abortWhen(api.exited, () => new Error('api exited'), supervisor.signal),
        onProgress: progress(`the API at ${apiUrl}/healthz`),
      }).then((ok) => ok || notReady.push(`api not answering ${apiUrl}/healthz yet`)),
    ]);
  } catch {
    // A child died (the supervisor reports it and shuts down) or Ctrl-C.
    return;
  }
  if (supervisor.shuttingDown) return;

  const dnsRows: Array<[string, string]> =
    p.dnsPort === undefined
      ? [['DNS', `${config.DNS_SERVERS?.join(', ')} (DNS_SERVERS)`]]
      : [
          ['DNS', `${DEV_DNS_HOST}:${p.dnsPort}`],
          ['', 'npm run dns -- txt _partnerflow-challenge.<domain> <value>'],
        ];
  const rows: Array<[string, string]> = [
    ['API', apiUrl],
    ['health', `${apiUrl}/healthz`],
    ['operator', `${operatorTokenAt} (npm run operator reads it)`],
    ['Web UI', p.temporalUiUrl],
    // The Web UI's codec calls carry the browser's sign-in cookie only with that setting on (README: Encrypted payloads).
    ['codec', `${apiUrl}${CODEC_PATH}/session signs this browser in; then, in the Web UI's codec settings, Include cross-origin credentials`],
    ['inbox', inboxUrl ?? `none (mail goes to ${withoutCredentials(p.smtpUrl)})`],
    ['gRPC', p.temporalPort === undefined ? `${p.temporalAddress} (external)` : p.temporalAddress],
    ...dnsRows,
  ];
  const lines = [
    '',
    paint(notReady.length === 0 ? 'partnerflow is up' : 'partnerflow started, but:', 'bold'),
    ...notReady.map((n) => `  ${paint('!', 'yellow')} ${n}`),
    ...rows.map(([label, value]) => `  ${label.padEnd(8)} ${paint(value, 'cyan')}`),
    '  Ctrl-C stops everything',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  say.error(messageOf(error));
  process.exit(1);
});
