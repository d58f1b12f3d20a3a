import { problemTypes } from '../../../src/http/errors.js';
import type { RawRequest, RawResponse } from './rawHttp.js';

// What every answer must look like, whatever was sent. Each check returns the
// broken invariants as sentences (empty when the answer is fine).

/** Signs of a stack trace, a file path or a library's internal message in what a client sees. */
const INTERNALS: [string, RegExp][] = [
  ['a stack frame', /\n\s+at\s+\S|\bat (?:async )?[\w$.<>]+ \([^)]*:\d+:\d+\)/],
  ['a source path', /node_modules|node:internal|file:\/\/\/|\/work\/|[\w-]+\.(?:ts|js|mjs):\d+/],
  ['a Prisma or driver error', /Prisma\w*Error|PrismaClient|Invalid `[^`]*` invocation|duplicate key value|violates (?:unique|foreign key|check) constraint|ECONNREFUSED|ETIMEDOUT/],
  ['a JavaScript error message', /\b(?:TypeError|ReferenceError|RangeError|SyntaxError): |Unexpected token|is not a function|Cannot read propert/],
  ['a Temporal internal', /WorkflowUpdateFailedError|ApplicationFailure|WorkflowExecutionAlreadyStarted|grpc/i],
];

/** An HTML element the fuzzer sends; it must never come back unescaped in a page. */
export const XSS_MARKER = '<fz-x';

export type Surface = 'api' | 'page' | 'dashboard';

export function surfaceOf(path: string): Surface {
  // Express matches routes case-insensitively, so the surface does too.
  if (/^\/api\/v1(?:[/?#;]|$)/i.test(path)) return 'api';
  if (/^\/admin\/queues(?:[/?#;]|$)/i.test(path)) return 'dashboard';
  return 'page';
}

const problemCodes = new Set(Object.keys(problemTypes));

export function brokenInvariants(req: RawRequest, res: RawResponse, secrets: string[]): string[] {
  const broken: string[] = [];
  const surface = surfaceOf(req.path);
  const sent = `${req.path}\n${req.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n${req.body?.toString('latin1') ?? ''}`;
  const shown = `${JSON.stringify(res.headers)}\n${res.text}`;

  // /readyz answers 503 by design when a dependency is down; everything else must never fail on our side.
  if (res.status >= 500 && !(req.path.startsWith('/readyz') && res.status === 503)) broken.push(`answered ${res.status}`);
  if (res.status < 100) broken.push('no status');

  for (const [what, pattern] of INTERNALS) {
    const found = pattern.exec(res.text);
    if (found && !sent.includes(found[0])) broken.push(`the answer contains ${what}: ${JSON.stringify(found[0])}`);
  }
  for (const secret of secrets) {
    if (secret && shown.includes(secret) && !sent.includes(secret)) broken.push('the answer contains a server-side secret');
  }

  // Node's HTTP parser answers 431 (request line and headers over 16 KiB) before the app sees anything.
  const isError = res.status >= 400 && !(res.status === 431 && res.body.length === 0);
  const hasBody = req.method !== 'HEAD' && res.status !== 204 && res.status !== 304;
  const isProblem = /^application\/problem\+json\b/.test(res.contentType);
  if (isError && surface === 'api' && !isProblem) broken.push(`API error with Content-Type ${JSON.stringify(res.contentType)}, not application/problem+json`);
  // Outside /api/v1 an error is a page, or (service endpoints such as /metrics) a problem; either must be well formed.
  if (isError && isProblem) {
    if (hasBody) {
      let problem: unknown;
      try {
        problem = JSON.parse(res.text);
      } catch {
        broken.push('problem+json body is not JSON');
      }
      if (problem !== undefined) {
        const p = problem as Record<string, unknown>;
        const code = typeof p.type === 'string' ? /^\/problems\/([A-Za-z]+)$/.exec(p.type)?.[1] : undefined;
        if (!code) broken.push(`problem type ${JSON.stringify(p.type)} is not /problems/<code>`);
        else if (!problemCodes.has(code)) broken.push(`problem type /problems/${code} is not a documented code`);
        if (p.status !== res.status) broken.push(`problem status ${String(p.status)} differs from HTTP ${res.status}`);
        if (typeof p.title !== 'string' || !p.title) broken.push('problem has no title');
        if ('stack' in p || 'cause' in p) broken.push('problem carries a stack or cause');
      }
    }
  }
  if (isError && surface === 'page' && !isProblem) {
    if (!/^text\/html\b/.test(res.contentType)) broken.push(`page error with Content-Type ${JSON.stringify(res.contentType)}, neither text/html nor application/problem+json`);
    else if (hasBody && !/<html[\s>]|<!doctype html/i.test(res.text)) broken.push('page error is not an HTML page');
  }
  // Bull Board answers its own API's errors (even 413) as {"error":…,"message":…} JSON; operator-only, so tolerated.
  if (isError && surface === 'dashboard' && !/^(?:text\/(?:html|plain)|application\/json)\b/.test(res.contentType)) {
    broken.push(`dashboard error with Content-Type ${JSON.stringify(res.contentType)}`);
  }
  if (/^text\/html\b/.test(res.contentType) && res.text.includes(XSS_MARKER)) broken.push('an HTML answer reflects markup it was sent without escaping it');
  return broken;
}
