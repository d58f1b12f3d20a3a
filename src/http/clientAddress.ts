import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

// Which hop of X-Forwarded-For is the client: only a proxy on this machine is
// trusted to say. Express is set to the same ('trust proxy'), so req.ip and
// clientAddressOf agree, for the routes Express serves and for the access
// check's fast path, which it does not.

export const TRUSTED_PROXIES = 'loopback';

const trusted = proxyaddr.compile(TRUSTED_PROXIES);

/** The client's address, as `req.ip` would say it. */
export function clientAddressOf(req: IncomingMessage): string {
  return proxyaddr(req, trusted) || 'unknown';
}
