import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifyWebhook, type SignatureCheck } from '../../src/webhooks/webhookSignature.js';
import { newPartner, unique } from './relationshipDriver.js';
import { useSuiteResource } from './suiteResource.js';
import type { TestSystem } from './testSystem.js';
import { waitFor } from './waitFor.js';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body as received: what the signature covers. */
  body: string;
  /** The signature checked with the secret registered for this path, at arrival. */
  check: SignatureCheck;
  receivedAt: number;
}

/**
 * A partner's webhook endpoint on 127.0.0.1. Each path answers as told
 * (`respond`), checking every request's signature with that path's secret.
 */
export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  const secrets = new Map<string, string>();
  const responders = new Map<string, (hook: ReceivedWebhook) => Promise<number> | number>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    // A sender killed mid-request resets the connection: nothing to record, and no reason to crash the test.
    req.on('error', () => undefined);
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers[SIGNATURE_HEADER.toLowerCase()];
      const check = verifyWebhook(secrets.get(path) ?? '', typeof signature === 'string' ? signature : undefined, body);
      const hook: ReceivedWebhook = { path, headers: req.headers, body, check, receivedAt: Date.now() };
      received.push(hook);
      void Promise.resolve((responders.get(path) ?? (() => 404))(hook)).then((status) => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    received,
    /** Registers an endpoint; returns its URL. `secret` is set once the partner exists (`setSecret`). */
    endpoint(path: string, respond: (hook: ReceivedWebhook) => Promise<number> | number): string {
      responders.set(path, respond);
      return `${baseUrl}${path}`;
    },
    setSecret(path: string, secret: string) {
      secrets.set(path, secret);
    },
    at: (path: string) => received.filter((hook) => hook.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/** A receiver for the describe block this is called in: started in its beforeAll, closed in its afterAll. */
export const useWebhookReceiver = (): WebhookReceiver => useSuiteResource('the webhook receiver', startWebhookReceiver, (receiver) => receiver.close());

/**
 * A partner (relationshipDriver's newPartner) whose webhook URL is `path` on the receiver, answering
 * as `respond` says; the receiver checks every request's signature with the partner's secret.
 */
export async function newPartnerWithWebhook(system: TestSystem, receiver: WebhookReceiver, label: string, path: string, respond: Parameters<WebhookReceiver['endpoint']>[1]) {
  const partner = await newPartner(system, label, { webhookUrl: receiver.endpoint(path, respond) });
  const webhookSecret = partner.webhookSecret ?? '';
  receiver.setSecret(path, webhookSecret);
  return { ...partner, webhookSecret };
}

/**
 * A partner whose own system provisions its subscriptions and trials (provisioner `partner`,
 * docs/commerce.md), its webhooks received at a path of its own. `waitForEvent` finds the first
 * event of a type, as the receiver parsed it.
 */
export async function newProvisioningPartner(system: TestSystem, receiver: WebhookReceiver, label: string) {
  const path = `/${unique(label)}`;
  const partner = await newPartner(system, label, { webhookUrl: receiver.endpoint(path, () => 204), provisioner: 'partner' });
  receiver.setSecret(path, partner.webhookSecret ?? '');
  const events = () => receiver.at(path).map((hook) => ({ hook, event: JSON.parse(hook.body) as { type: string } }));
  return {
    partner,
    /** The types received so far, in order. */
    types: () => events().map((e) => e.event.type),
    waitForEvent: <Event extends { type: string }>(type: Event['type']) =>
      waitFor(
        () => {
          const found = events().find((e) => e.event.type === type);
          return found ? { hook: found.hook, event: found.event as Event } : undefined;
        },
        { what: `a ${type} webhook at ${path}` },
      ),
  };
}
