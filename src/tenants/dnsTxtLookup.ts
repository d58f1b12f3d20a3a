import { promises as dns } from 'node:dns';

export type TxtLookupResult =
  /** Each TXT record's chunks joined with '', in the order the server returned them. */
  | { kind: 'found'; values: string[] }
  /** NXDOMAIN, NODATA: the name holds no TXT record. */
  | { kind: 'none' }
  /** Timeout, refused, SERVFAIL…: DNS could not be asked; `detail` is c-ares' code, e.g. 'ETIMEOUT'. */
  | { kind: 'unavailable'; detail: string };

export type TxtLookup = (name: string) => Promise<TxtLookupResult>;

const DEFAULT_TIMEOUT_MS = 3_000;

// Answers that say what the DNS holds. Anything else means it was not asked
// properly, and a caller must not read that as "the record is absent".
const NO_RECORD_CODES = new Set<string>([
  dns.NOTFOUND,
  dns.NODATA,
  // A name DNS cannot carry cannot hold a record either.
  dns.BADNAME,
]);

// Node hands TXT bytes over as latin1 (one char per byte); joined first, so a
// chunk boundary inside a character does no harm, then read as the UTF-8 people publish.
function textOfRecord(chunks: string[]): string {
  return Buffer.from(chunks.join(''), 'latin1').toString('utf8');
}

function errorCode(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return 'EUNKNOWN';
}

/**
 * Node's own resolver (c-ares) rather than a DNS client package: maintained
 * with Node, reads /etc/resolv.conf when no servers are given, takes ip:port
 * servers, and caches nothing in-process on the Node versions in use (checked
 * on 20.20), so a record published a moment ago is seen on the next try.
 * tries: 2 rides out one lost UDP packet; c-ares lengthens the second wait,
 * so an unreachable server costs a few times `timeoutMs`.
 */
export function createTxtLookup(options: { servers?: string[]; timeoutMs?: number }): TxtLookup {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, tries: 2 });
  if (options.servers && options.servers.length > 0) resolver.setServers(options.servers);
  return async (name) => {
    try {
      const records = await resolver.resolveTxt(name);
      if (records.length === 0) return { kind: 'none' };
      return { kind: 'found', values: records.map(textOfRecord) };
    } catch (error) {
      const code = errorCode(error);
      return NO_RECORD_CODES.has(code) ? { kind: 'none' } : { kind: 'unavailable', detail: code };
    }
  };
}
