import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { addressRange, hostOf, isPublicAddress, WebhookTargetRefusedError, type WebhookTargetPolicy } from './webhookTarget.js';

/**
 * POSTs a webhook with node:http(s), so the address connected to is the one the
 * target policy checked: its `lookup` resolves and filters, and the socket
 * connects to what it returns (Host header and TLS SNI stay the URL's name).
 * A literal IP host is checked here, since the socket never looks it up.
 * Redirects are not followed; the body of the answer is not read.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, options: { policy: WebhookTargetPolicy; signal: AbortSignal }): Promise<number> {
  const host = hostOf(url);
  if (!options.policy.allowPrivate && isIP(host) !== 0 && !isPublicAddress(host)) {
    return Promise.reject(new WebhookTargetRefusedError(host, [{ address: host, range: addressRange(host) }]));
  }
  const request = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: options.policy.lookup,
        signal: options.signal,
        // One connection per delivery: a pooled socket would skip the lookup, and so the check.
        agent: false,
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
