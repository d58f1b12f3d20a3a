import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { withAuthFailureLimit, type AuthFailures } from '../http/authFailures.js';
import { AppError, problemJsonHandler } from '../http/errors.js';
import type { Logger } from '../infra/logger.js';
import { PayloadDecryptionError } from '../infra/payloadCodec.js';
import { createCodecSession } from './codecSession.js';

// The remote codec the Temporal Web UI and CLI call to show payloads that the
// project's codec encrypted (src/infra/payloadCodec.ts): POST /codec/decode and
// POST /codec/encode, each with a body `{payloads:[{metadata:{k:base64}, data:base64}]}`
// (the protobuf JSON of Payloads) and an X-Namespace header. Operators only
// (codecSession.ts); from a browser only the configured Web UI's origin, whose
// requests are preflighted (JSON body, X-Namespace) and carry credentials.

export const CODEC_PATH = '/codec';

/** A request of the Web UI decodes one page of history; Temporal limits one payload to 2 MiB. */
export const CODEC_BODY_LIMIT = '4mb';

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
/** The protobuf JSON of Temporal Payloads, as the Web UI and the CLI send it (and get it back). */
export const codecPayloadsSchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })).max(10_000),
});

export interface CodecRouteDeps {
  codec: PayloadCodec;
  operatorToken: string;
  /** TEMPORAL_UI_URL: its origin is the only one allowed to call from a browser. */
  webUiUrl: string;
  /** Only this namespace's payloads are ours to decode (TEMPORAL_NAMESPACE). */
  namespace: string;
  /** PUBLIC_BASE_URL is https: the browser session cookie is Secure and may cross sites. */
  secureCookies: boolean;
  authFailures: AuthFailures;
  log: Logger;
}

const fromBase64 = (value: string) => new Uint8Array(Buffer.from(value, 'base64'));
const toBase64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');

function payloadsOf(body: z.infer<typeof codecPayloadsSchema>): Payload[] {
  return body.payloads.map((payload) => ({
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, fromBase64(value)])),
    data: fromBase64(payload.data ?? ''),
  }));
}

function payloadsJson(payloads: Payload[]) {
  return {
    payloads: payloads.map((payload) => ({
      metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, toBase64(value)])),
      data: toBase64(payload.data),
    })),
  };
}

/**
 * CORS for the Web UI's origin only. A request from any other page is refused
 * outright (403, no CORS headers), preflight included; one with no Origin at
 * all (the CLI, curl) is not a browser page and goes on to authentication.
 */
function webUiOnly(webUiOrigin: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.get('origin');
    res.vary('Origin');
    if (origin === undefined) return next();
    if (origin !== webUiOrigin) throw new AppError('forbidden', `Only the Temporal Web UI (${webUiOrigin}) may call the codec from a browser.`);
    res.set({ 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' });
    if (req.method !== 'OPTIONS') return next();
    res.set({
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, x-namespace, authorization',
      'access-control-max-age': '600',
    });
    res.status(204).end();
  };
}

export function codecRoutes(deps: CodecRouteDeps): Router {
  const router = Router();
  const session = createCodecSession({ operatorToken: deps.operatorToken, secure: deps.secureCookies });
  const operatorOnly = withAuthFailureLimit((req: Request, _res: Response, next: NextFunction) => {
    session.requireOperator(req);
    next();
  }, deps.authFailures);

  router.use(webUiOnly(new URL(deps.webUiUrl).origin));
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  // Opened by an operator in the browser that runs the Web UI: it asks for the operator token once.
  router.get(
    '/session',
    withAuthFailureLimit((req: Request, res: Response) => {
      const until = session.signIn(req, res);
      res
        .type('text/plain')
        .send(
          `This browser may decode Temporal payloads until ${until.toISOString()}.\n` +
            `In the Temporal Web UI, the codec server settings need "Include cross-origin credentials" on.\n`,
        );
    }, deps.authFailures),
  );

  const transcode = (operation: 'encode' | 'decode') => async (req: Request, res: Response) => {
    const namespace = req.get('x-namespace');
    if (namespace !== undefined && namespace !== deps.namespace) {
      throw new AppError('forbidden', `This codec serves the namespace "${deps.namespace}" only.`);
    }
    if (!req.is('application/json')) throw new AppError('unsupportedMediaType', 'Send the body as application/json.');
    const payloads = payloadsOf(codecPayloadsSchema.parse(req.body));
    try {
      res.json(payloadsJson(await deps.codec[operation](payloads)));
    } catch (err) {
      if (err instanceof PayloadDecryptionError) throw new AppError('validation', err.message, { reason: err.reason });
      throw err;
    }
  };
  const json = express.json({ limit: CODEC_BODY_LIMIT, strict: true, type: 'application/json' });
  router.post('/encode', operatorOnly, json, transcode('encode'));
  router.post('/decode', operatorOnly, json, transcode('decode'));
  router.use(problemJsonHandler(deps.log));
  return router;
}
