import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

// Webhook targets must be public addresses (issue 10, item 7: SSRF). A partner's
// URL could otherwise make partnerflow POST to its own network: loopback, private
// ranges, link-local (including the cloud metadata service at 169.254.169.254),
// and the other special-purpose ranges. ipaddr.js names each range; only plain
// 'unicast' may be reached. The check runs at registration (on the URL's name or
// literal) and again at delivery, on the very address the socket connects to, so
// a name that later resolves to 127.0.0.1 (DNS rebinding) gets nowhere.
// WEBHOOK_ALLOW_PRIVATE_TARGETS turns it off, for local testing only.

const REGISTRATION_LOOKUP_MS = 2_000;

export class WebhookTargetRefusedError extends Error {
  constructor(
    readonly host: string,
    readonly addresses: { address: string; range: string }[],
  ) {
    const found = addresses.map((a) => `${a.address} (${a.range})`).join(', ');
    super(
      addresses.length === 0
        ? `webhook target ${host} does not resolve`
        : `webhook target ${host} is ${found}; webhooks may only reach public addresses (not loopback, private, link-local or reserved)`,
    );
    this.name = 'WebhookTargetRefusedError';
  }
}

/** The range ipaddr.js gives an address; IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 it carries. */
export function addressRange(address: string): string {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range();
  }
  return parsed.range();
}

export const isPublicAddress = (address: string) => addressRange(address) === 'unicast';

/** The host of a URL as a name or a bare IP literal (IPv6 without its brackets). */
export function hostOf(url: string): string {
  const { hostname } = new URL(url);
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });
}

export interface WebhookTargetPolicy {
  /**
   * At registration: refuses a URL whose host is a non-public literal, or a name that resolves
   * only to non-public addresses. A name that does not resolve yet is accepted (delivery checks again).
   */
  checkUrl(url: string): Promise<void>;
  /** A `lookup` for node:net that resolves, keeps only public addresses, and refuses when none is left. */
  lookup: typeof dnsLookup;
  allowPrivate: boolean;
}

export function createWebhookTargetPolicy({ allowPrivate }: { allowPrivate: boolean }): WebhookTargetPolicy {
  async function checkUrl(url: string): Promise<void> {
    if (allowPrivate) return;
    const host = hostOf(url);
    if (isIP(host) !== 0) {
      if (!isPublicAddress(host)) throw new WebhookTargetRefusedError(host, [{ address: host, range: addressRange(host) }]);
      return;
    }
    // A slow or failing resolver must not hold the operator's request: delivery checks the name again anyway.
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<LookupAddress[]>((resolve) => {
      timer = setTimeout(() => resolve([]), REGISTRATION_LOOKUP_MS);
    });
    const addresses = await Promise.race([resolveAll(host).catch(() => []), giveUp]).finally(() => clearTimeout(timer));
    if (addresses.length > 0 && !addresses.some((a) => isPublicAddress(a.address))) {
      throw new WebhookTargetRefusedError(host, addresses.map((a) => ({ address: a.address, range: addressRange(a.address) })));
    }
  }

  const checkedLookup = ((hostname: string, options: { all?: boolean } | number | undefined, callback: (...args: unknown[]) => void) => {
    const all = typeof options === 'object' && options.all === true;
    resolveAll(hostname).then(
      (addresses) => {
        const allowed = allowPrivate ? addresses : addresses.filter((a) => isPublicAddress(a.address));
        const first = allowed[0];
        if (!first) {
          callback(new WebhookTargetRefusedError(hostname, addresses.map((a) => ({ address: a.address, range: addressRange(a.address) }))));
          return;
        }
        if (all) callback(null, allowed);
        else callback(null, first.address, first.family);
      },
      (err: unknown) => callback(err),
    );
  }) as unknown as typeof dnsLookup;

  return { checkUrl, lookup: checkedLookup, allowPrivate };
}
