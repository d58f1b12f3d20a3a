import { pino } from 'pino';

// What must never reach a log line: credentials (API keys, the operator token,
// passwords, session cookies) and the one-time tokens in customer links. Keys
// with these names are replaced wherever they sit (up to four levels deep), and
// the strings most likely to embed one (request paths, URLs, error messages)
// are scrubbed by pattern.

const SECRET_KEYS = [
  'apiKey',
  'api_key',
  'apikey',
  'x-api-key',
  'token',
  'accessToken',
  'refreshToken',
  'operatorToken',
  'password',
  'pass',
  'secret',
  'webhookSecret',
  'sessionSecret',
  'linkSecret',
  'cookie',
  'cookies',
  'set-cookie',
  'authorization',
  'Authorization',
  'OPERATOR_TOKEN',
  'SESSION_SECRET',
  'LINK_SECRET',
  'TEMPORAL_API_KEY',
  'PAYLOAD_ENCRYPTION_KEYS',
];

const MAX_DEPTH = 4;

/** pino `redact` paths: each secret key at the top level and under up to MAX_DEPTH - 1 parents. */
export const redactPaths: string[] = SECRET_KEYS.flatMap((key) => {
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  return Array.from({ length: MAX_DEPTH }, (_, depth) => {
    if (depth === 0) return segment.startsWith('[') ? key : segment;
    const parents = Array.from({ length: depth }, () => '*').join('.');
    return segment.startsWith('[') ? `${parents}${segment}` : `${parents}.${segment}`;
  });
});

// Customer pages whose path ends in a link token (see routes/*Routes.ts).
const TOKEN_PATH = /(\/(?:invitations|sign-in|tenants\/verify|tenant-admins\/confirm)\/)[^/?#\s"']+/g;
const SECRET_QUERY = /([?&](?:token|key|api_?key|password|secret|code)=)[^&#\s"']+/gi;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)[^@/?#\s]+@/gi;
const AUTH_HEADER_VALUE = /\b(Bearer|Basic)\s+[\w.~+/=-]+/g;
// API keys: partners' (pf_…) and enforcers' (pfe_…); a prefix alone (7 characters after the tag) is no secret.
const API_KEY = /\b(pfe?)_[\w-]{16,}/g;

/** The text with link tokens, credentials in URLs and query strings, and bearer keys replaced. */
export function scrubText(text: string): string {
  return text
    .replace(TOKEN_PATH, '$1[token]')
    .replace(SECRET_QUERY, '$1[Redacted]')
    .replace(URL_PASSWORD, '$1[Redacted]@')
    .replace(AUTH_HEADER_VALUE, '$1 [Redacted]')
    .replace(API_KEY, '$1_[Redacted]');
}

const scrubIfText = (value: unknown): unknown => (typeof value === 'string' ? scrubText(value) : value);

/** pino serializers for the keys whose strings may embed a token: errors, paths, URLs. */
export const redactingSerializers = {
  err(value: unknown): unknown {
    if (!(value instanceof Error)) return scrubIfText(value);
    const serialized = pino.stdSerializers.err(value);
    return { ...serialized, message: scrubText(serialized.message), stack: scrubText(serialized.stack) };
  },
  path: scrubIfText,
  url: scrubIfText,
};
