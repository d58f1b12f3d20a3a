import { isIP } from 'node:net';
import { z } from 'zod';

// Every setting the processes read, parsed once at start-up so a bad value
// stops the process with the variable's name instead of failing later.

const url = (protocols: string[], example: string) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL like ${example}` },
  );

// The forms c-ares' setServers accepts, checked here so a typo stops start-up
// instead of surfacing as "DNS unavailable" at the first domain check.
function isDnsServerAddress(entry: string): boolean {
  if (isIP(entry) !== 0) return true;
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(entry);
  if (!match) return false;
  const [, ipv6, ipv4, port] = match;
  const portInRange = Number(port) >= 1 && Number(port) <= 65535;
  return portInRange && (ipv6 === undefined ? isIP(ipv4 ?? '') === 4 : isIP(ipv6) === 6);
}

const dnsServerList = z
  .string()
  .transform((value, ctx) => {
    const entries = value.split(',').map((entry) => entry.trim());
    if (entries.every((entry) => entry === '')) return undefined;
    const bad = entries.find((entry) => !isDnsServerAddress(entry));
    if (bad !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${bad === '' ? 'has an empty entry' : `"${bad}" is not ip, ip:port or [ipv6]:port`} (comma-separated, e.g. 10.0.0.2,[2001:db8::53]:53)`,
      });
      return z.NEVER;
    }
    return entries;
  })
  .optional();

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

// The dev defaults earlier versions shipped. They are public (they were in this
// file), so a deployment still holding one is refused rather than trusted.
const WELL_KNOWN_SECRETS = new Set([
  'dev-operator-token-change-me',
  'dev-session-secret-change-me-0123456789abcdef',
  'dev-link-secret-change-me-0123456789abcdef',
]);

// No secret has a built-in value: a forgotten variable stops the process instead
// of quietly running with a key anyone who read the source knows.
const secret = (minLength: number) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required (npm start generates one for local use)' : 'must be a string') })
    .min(minLength, `must be at least ${minLength} characters`)
    .refine((value) => !WELL_KNOWN_SECRETS.has(value), 'is a published development value; set a random one (e.g. openssl rand -hex 32)');

// Payload encryption keys: `id:base64key` entries, comma-separated; each key 32 bytes (AES-256).
// Parsed into a Map so that a config object that ends up in a log or JSON shows `{}`, never a key.
const PAYLOAD_KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const AES_256_KEY_BYTES = 32;
const payloadKeyList = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required (npm start generates one for local use)' : 'must be a string') })
  .transform((value, ctx): ReadonlyMap<string, Buffer> => {
    const keys = new Map<string, Buffer>();
    for (const entry of value.split(',').map((part) => part.trim())) {
      if (entry === '') continue;
      const separator = entry.indexOf(':');
      const id = entry.slice(0, Math.max(separator, 0));
      const encoded = entry.slice(separator + 1);
      const key = Buffer.from(encoded, 'base64');
      // Messages name the key id only, never any of the key's characters.
      const problem =
        separator < 0 || !PAYLOAD_KEY_ID.test(id)
          ? 'has an entry that is not id:base64key (id: letters, digits, . _ - only)'
          : !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== AES_256_KEY_BYTES
            ? `key "${id}" must be ${AES_256_KEY_BYTES} bytes in base64 (e.g. openssl rand -base64 32)`
            : keys.has(id)
              ? `lists key "${id}" twice`
              : undefined;
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      keys.set(id, key);
    }
    if (keys.size === 0) {
      ctx.addIssue({ code: 'custom', message: 'lists no key (id:base64key, comma-separated)' });
      return z.NEVER;
    }
    return keys;
  });

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_BASE_URL: url(['http:', 'https:'], 'https://partners.example.com').default('http://localhost:3000'),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgresql://user@host:5432/db').default(
    'postgresql://postgres@127.0.0.1:5432/partnerflow',
  ),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').default('redis://127.0.0.1:6379'),
  /** Prefix for BullMQ keys, so several deployments (or test files) can share one Redis. */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only').default('partnerflow'),
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('partnerflow'),
  TEMPORAL_TLS: flag.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  /** Where operators open workflows; every relationship links there. */
  TEMPORAL_UI_URL: url(['http:', 'https:'], 'http://localhost:8233').default('http://localhost:8233'),
  SMTP_URL: url(['smtp:', 'smtps:'], 'smtp://127.0.0.1:1025').default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().min(3).default('partnerflow <no-reply@partnerflow.localhost>'),
  /** Messages per second the mail worker may hand to the SMTP relay. */
  MAIL_RATE_PER_SECOND: z.coerce.number().int().positive().default(20),
  /** Invitation emails (offers and resends) one partner may cause per hour; beyond it those calls are 429. */
  PARTNER_MAIL_PER_HOUR: z.coerce.number().int().positive().default(500),
  /** Emails any one address may get per hour; beyond it they wait for the next hour (sign-in and verification emails excepted). */
  RECIPIENT_MAIL_PER_HOUR: z.coerce.number().int().positive().default(20),
  /** Lets webhook URLs point at loopback, private and link-local addresses. For local testing only. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: flag.default(false),
  /** Tries per webhook before it is marked failed; with the default backoff, 12 span up to about 6 hours. */
  WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
  /** First webhook retry delay; each further one doubles (with jitter). */
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(10).default(10_000),
  /** How long a partner's endpoint may take to answer one delivery. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * How often the grant reconciler (a Temporal Schedule the worker creates) revokes grants whose
   * relationship workflow no longer runs (terminated from the Web UI, failed, or gone).
   */
  GRANT_RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
  /**
   * How often the worker's outbox sweeper looks for email and webhook rows still queued whose job
   * never reached Redis (a crash between commit and hand-over, Redis down), and hands them over.
   * 0 turns it off (tests whose systems share one database, and so would sweep each other's rows).
   */
  OUTBOX_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3_600).default(30),
  /** How long a queued row is left alone before the sweeper looks at it: its own hand-over may still be under way. */
  OUTBOX_SWEEP_GRACE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Requests one partner may make per window (all partner API calls count). */
  PARTNER_RATE_LIMIT_POINTS: z.coerce.number().int().positive().default(600),
  PARTNER_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().default(60),
  /**
   * Access checks (GET /api/v1/access, one per question of a batch) a partner's keys may make per
   * ACCESS_CHECK_WINDOW_SECONDS, apart from its request budget above; beyond it, 429 with Retry-After.
   */
  ACCESS_CHECKS_PER_PARTNER: z.coerce.number().int().positive().default(60_000),
  /** Access checks one enforcer's keys may make per ACCESS_CHECK_WINDOW_SECONDS. */
  ACCESS_CHECKS_PER_ENFORCER: z.coerce.number().int().positive().default(600_000),
  ACCESS_CHECK_WINDOW_SECONDS: z.coerce.number().int().positive().max(3600).default(60),
  /** PostgreSQL connections each API process keeps for the access check alone, so writes never queue it. */
  ACCESS_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Invitations one partner may have waiting for an answer (status invited) at once. */
  PARTNER_MAX_PENDING_INVITATIONS: z.coerce.number().int().positive().default(1000),
  /**
   * Lowers the minimum of every duration an offer may set (and of RESEND_COOLDOWN_SECONDS) to
   * one second, for demos and tests. An operator's choice; partners cannot ask for it.
   */
  ALLOW_SHORT_DURATIONS: flag.default(false),
  /** Time between two sends of one invitation (the offer or a resend); a resend sooner is 429. */
  RESEND_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(2_592_000).default(600),
  /** Resends one invitation may have; one more is 409 `resendLimit`. */
  RESENDS_PER_INVITATION: z.coerce.number().int().min(0).max(100).default(5),
  /** Auto-extend changes one relationship may have; one more is 409 `autoExtendLimit`. */
  AUTO_EXTEND_CHANGES_PER_RELATIONSHIP: z.coerce.number().int().min(0).max(1000).default(10),
  /** How long a completed POST is remembered under its Idempotency-Key. */
  IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().positive().default(86_400),
  /**
   * Sign-in emails one admin address may get per hour, as a spacing (10: one per 6 minutes, and at least
   * one per link lifetime); an ask within it is answered by the link already sent. Also the verification
   * emails per domain per hour.
   */
  SIGN_IN_EMAILS_PER_HOUR: z.coerce.number().int().positive().default(10),
  /** Admin invitations one tenant's admins may send per hour from the admins page; beyond it, 429 and no email. */
  ADMIN_INVITES_PER_HOUR: z.coerce.number().int().positive().default(10),
  /** Sign-in asks plus failed sign-in link uses one client address may make per hour; beyond it, 429 for that client only. */
  SIGN_IN_ATTEMPTS_PER_CLIENT: z.coerce.number().int().positive().default(30),
  /** Resolvers for domain-ownership TXT lookups; unset: the system's resolver. */
  DNS_SERVERS: dnsServerList,
  /** How long a stopping API lets in-flight requests finish before it cuts the remaining connections. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  /** Failed bearer or dashboard authentications one client address may make per window; beyond it, 429 before any key is checked. */
  AUTH_FAILURE_LIMIT: z.coerce.number().int().positive().default(20),
  AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().positive().default(600),
  OPERATOR_TOKEN: secret(16),
  SESSION_SECRET: secret(32),
  /** Derives the tokens of emailed links at the moment the email is rendered, so no raw token waits in Redis. */
  LINK_SECRET: secret(32),
  /**
   * Keys that encrypt Temporal payloads (workflow inputs, results, signals, activity data):
   * `id:base64key,…`. Every listed key decrypts; keep an old one listed while histories it wrote matter.
   */
  PAYLOAD_ENCRYPTION_KEYS: payloadKeyList,
  /** The id (in PAYLOAD_ENCRYPTION_KEYS) of the key new payloads are encrypted with. */
  PAYLOAD_ENCRYPTION_KEY_ID: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required (the id of the current key in PAYLOAD_ENCRYPTION_KEYS)' : 'must be a string') })
    .regex(PAYLOAD_KEY_ID, 'letters, digits, . _ - only'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

// Values a config error must never repeat: secrets, and anything that may carry
// credentials (a URL with user:password@). Error lines end up in terminals, CI
// logs and crash reports.
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|API_KEY|ENCRYPTION_KEYS/;

function echoable(variable: string, value: string | undefined): value is string {
  return value !== undefined && !SECRET_NAME.test(variable) && !value.includes('@');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const got = env[variable];
    throw new ConfigError(variable, `${issue?.message ?? 'invalid'}${echoable(variable, got) ? ` (got "${got}")` : ''}`);
  }
  const raw = parsed.data;
  if (Boolean(raw.TEMPORAL_TLS_CERT_PATH) !== Boolean(raw.TEMPORAL_TLS_KEY_PATH)) {
    throw new ConfigError('TEMPORAL_TLS_CERT_PATH', 'and TEMPORAL_TLS_KEY_PATH must be set together');
  }
  if (raw.RESEND_COOLDOWN_SECONDS < 60 && !raw.ALLOW_SHORT_DURATIONS) {
    throw new ConfigError('RESEND_COOLDOWN_SECONDS', 'must be at least 60 unless ALLOW_SHORT_DURATIONS=true');
  }
  if (!raw.PAYLOAD_ENCRYPTION_KEYS.has(raw.PAYLOAD_ENCRYPTION_KEY_ID)) {
    throw new ConfigError('PAYLOAD_ENCRYPTION_KEY_ID', `"${raw.PAYLOAD_ENCRYPTION_KEY_ID}" is not a key id of PAYLOAD_ENCRYPTION_KEYS (${[...raw.PAYLOAD_ENCRYPTION_KEYS.keys()].join(', ')})`);
  }
  return raw;
}
