import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMutation,
  authHeader,
  authKind,
  cookieHeader,
  cookieKind,
  encodeForm,
  encodeJson,
  extraHeaders,
  formContentType,
  formEncoding,
  jsonContentType,
  jsonEncoding,
  mutation,
  nastyValue,
  oddMethods,
  operationsOf,
  pathBend,
  pathBends,
  pathParamValue,
  queryString,
  valueFor,
  type AuthKind,
  type CookieKind,
  type FormEncoding,
  type JsonEncoding,
  type Mutation,
  type OpenApiLike,
  type Operation,
} from './support/arbitraries.js';
import { differences, seededNames, startFuzzSystem, type FuzzSystem, type Snapshot } from './support/fuzzSystem.js';
import { brokenInvariants } from './support/invariants.js';
import { knownBugOf } from './support/knownBugs.js';
import { closeAgent, describeRequest, describeResponse, send, type RawRequest, type RawResponse } from './support/rawHttp.js';

// Issue 10, item 8: every route the OpenAPI document lists, and every form,
// fed generated and malformed bodies, headers, query strings, methods, sizes
// and encodings, against the real system (API, worker, Temporal, Postgres,
// Redis, SMTP). After every case:
//   - no 5xx;
//   - an API error is application/problem+json with type /problems/<code>, a
//     page error is an HTML page, and neither shows a stack, a path or an
//     internal message, a server secret, or unescaped markup it was sent;
//   - a refused request (4xx) changed nothing: every table of this file's own
//     database (row counts, and row digests where the worker is not updating
//     delivery attempts), the queued mail and webhook jobs under this system's
//     prefix, and the state of every seeded workflow (getState query).
// Valid requests may change state; the system settles before the next case.
//
// Reproduce: the seed is printed (FUZZ_SEED=<n> replays it; the system's own
// state still differs between runs, so replay the failing case shown first).
// FUZZ_RUNS caps the number of cases (default 6000), FUZZ_BUDGET_MS the total
// time spent generating cases (default 60 s), shared out between the properties.

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 6000);
const TOTAL_BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 60_000);
const shares = { api: 0.4, pages: 0.35, transport: 0.25 } as const;

/** Body limits the routes enforce (413 above them): JSON API 32 KiB, customer forms 16 KiB. */
const JSON_LIMIT = 32 * 1024;
const FORM_LIMIT = 16 * 1024;

interface CaseSpec {
  op: string;
  method: string;
  params: Record<string, string>;
  bend: string;
  query: string;
  auth: AuthKind;
  cookie: CookieKind;
  headers: [string, string][];
  body: { kind: 'json'; value: unknown; mutation: Mutation; encoding: JsonEncoding; contentType: string | undefined } | { kind: 'form'; value: unknown; mutation: Mutation; encoding: FormEncoding; contentType: string | undefined } | { kind: 'none' };
  noise: number;
}

const stats = { cases: 0, refused: 0, byProperty: {} as Record<string, number>, byStatus: {} as Record<string, number>, knownBugs: {} as Record<string, number>, ms: { http: 0, snapshot: 0, settle: 0 }, started: 0 };

describe('fuzzing every edge (issue 10, item 8)', () => {
  let fuzz: FuzzSystem;
  let ops: Operation[];
  const opByKey = new Map<string, Operation>();

  beforeAll(async () => {
    console.log(`[fuzz] seed ${SEED} (replay: FUZZ_SEED=${SEED}), at most ${TOTAL_RUNS} cases in ${TOTAL_BUDGET_MS} ms`);
    fuzz = await startFuzzSystem();
    const doc = (await (await fetch(`${fuzz.system.baseUrl}/openapi.json`)).json()) as OpenApiLike;
    ops = operationsOf(doc);
    for (const op of ops) opByKey.set(`${op.method} ${op.path}`, op);
    stats.started = performance.now();
  }, 240_000);

  afterAll(async () => {
    const seconds = ((performance.now() - stats.started) / 1000).toFixed(1);
    console.log(
      `[fuzz] seed ${SEED}: ${stats.cases} cases (${stats.refused} refused) in ${seconds} s; by property ${JSON.stringify(stats.byProperty)}; by status ${JSON.stringify(stats.byStatus)}; known bugs hit (waived, see support/knownBugs.ts) ${JSON.stringify(stats.knownBugs)}; ms ${JSON.stringify(stats.ms, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`,
    );
    closeAgent();
    await fuzz?.stop();
  }, 120_000);

  function seedValues(): Record<string, string> {
    const s = fuzz.seeds;
    return {
      tenantS: s.tenantS.domain,
      tenantO: s.tenantO.domain,
      adminS: s.tenantS.admin,
      adminO: s.tenantO.admin,
      unregisteredDomain: s.unregisteredDomain,
      partnerAId: s.partnerA.id,
      partnerBId: s.partnerB.id,
      relInvited: s.relInvited.id,
      relActive: s.relActive.id,
      relOther: s.relOther.id,
      relContact: s.relContact.id,
      relUnregistered: s.relUnregistered.id,
      tokInvited: s.relInvited.token,
      tokContact: s.relContact.token,
      tokUnregistered: s.relUnregistered.token,
      tokChallenge: s.challengeToken,
      tokAdminInvite: s.adminInviteToken,
      tokSignIn: s.signInToken,
      csrf: s.session.csrf,
    };
  }

  /** Fills {{seed.x}} placeholders (raw, or percent-encoded as a form or query encodes them). */
  function fill(text: string, uri: boolean): string {
    const values = seedValues();
    return text.replace(/\{\{seed\.(\w+)\}\}|%7B%7Bseed\.(\w+)%7D%7D/g, (_m, a: string | undefined, b: string | undefined) => {
      const value = values[a ?? b ?? ''] ?? 'unknown-seed';
      return uri ? encodeURIComponent(value) : value;
    });
  }
  const fillValue = (value: unknown): unknown => (value === undefined ? undefined : (JSON.parse(fill(JSON.stringify(value) ?? 'null', false)) as unknown));

  function formFields(value: unknown): [string, string][] {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return [['value', String(JSON.stringify(value))]];
    return Object.entries(value).flatMap(([k, v]): [string, string][] =>
      Array.isArray(v) ? v.map((x): [string, string] => [k, typeof x === 'string' ? x : JSON.stringify(x)]) : [[k, typeof v === 'string' ? v : String(JSON.stringify(v))]],
    );
  }

  function buildRequest(spec: CaseSpec): RawRequest {
    const op = opByKey.get(spec.op);
    if (!op) throw new Error(`no operation ${spec.op}`);
    let path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => fill(spec.params[name] ?? 'x', true));
    path = (pathBends[spec.bend] ?? ((p: string) => p))(path);
    if (spec.query) path += `?${fill(spec.query, true)}`;
    const headers: [string, string][] = [];
    const authorization = authHeader(spec.auth, { operator: fuzz.seeds.operatorToken, partnerA: fuzz.seeds.partnerA.key, partnerB: fuzz.seeds.partnerB.key });
    if (authorization !== undefined) headers.push(['Authorization', authorization]);
    const cookie = cookieHeader(spec.cookie, fuzz.seeds.session.cookie);
    if (cookie !== undefined) headers.push(['Cookie', cookie]);
    headers.push(...spec.headers);
    let body: Buffer | undefined;
    if (spec.body.kind !== 'none') {
      const value = fillValue(applyMutation(spec.body.value, spec.body.mutation));
      const encoded =
        spec.body.kind === 'json'
          ? encodeJson(value, spec.body.encoding, spec.noise, JSON_LIMIT)
          : encodeForm(formFields(value), spec.body.encoding, spec.noise, FORM_LIMIT);
      body = encoded.body;
      if (spec.body.contentType !== undefined && body !== undefined) headers.push(['Content-Type', spec.body.contentType]);
      headers.push(...encoded.headers);
    }
    return { method: spec.method, path, headers, ...(body ? { body } : {}) };
  }

  /** The seeded relationships a request names (by id or invitation token): their workflow state is compared too. */
  function namedRelationships(req: RawRequest): (typeof seededNames)[number][] {
    const text = `${req.path}\n${req.body?.toString('latin1') ?? ''}`;
    return seededNames.filter((name) => text.includes(fuzz.seeds[name].id) || text.includes(fuzz.seeds[name].token));
  }

  /** The state every refused request must leave untouched; renewed after each request that may change something. */
  let baseline: Snapshot | undefined;

  async function runCase(property: string, spec: CaseSpec): Promise<void> {
    const req = buildRequest(spec);
    const named = namedRelationships(req);
    let t = performance.now();
    baseline ??= await fuzz.snapshot();
    const before: Snapshot = named.length ? { ...baseline, workflows: (await fuzz.snapshot(named)).workflows } : baseline;
    stats.ms.snapshot += performance.now() - t;
    let res: RawResponse;
    try {
      res = await send(fuzz.system.baseUrl, req);
    } catch (err) {
      throw new Error(`no answer (${err instanceof Error ? err.message : String(err)})\n${describeRequest(req)}`, { cause: err });
    }
    stats.ms.http += res.ms;
    stats.cases++;
    stats.byProperty[property] = (stats.byProperty[property] ?? 0) + 1;
    stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
    let broken = brokenInvariants(req, res, fuzz.secrets());
    const knownBug = knownBugOf(req, res);
    if (knownBug) {
      stats.knownBugs[knownBug.id] = (stats.knownBugs[knownBug.id] ?? 0) + 1;
      broken = broken.filter((b) => !/^answered 5\d\d$/.test(b));
    }
    if (res.status >= 400 && res.status < 500) {
      stats.refused++;
      t = performance.now();
      const after = await fuzz.snapshot(named);
      stats.ms.snapshot += performance.now() - t;
      const changed = differences(before, after);
      if (changed.length) {
        const writes = await fuzz.writesSince(before.lastWrite);
        broken.push(`a refused request (${res.status}) changed:\n    ${[...changed, ...writes].join('\n    ')}`);
        baseline = undefined;
      }
    } else {
      // A request that succeeded may have started work (a workflow, an email) that lands a moment later.
      t = performance.now();
      if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method) || (res.status >= 300 && res.status < 400)) await fuzz.settle(before);
      baseline = await fuzz.snapshot();
      stats.ms.settle += performance.now() - t;
    }
    if (broken.length) {
      baseline = undefined;
      throw new Error(`broken invariants:\n  - ${broken.join('\n  - ')}\nrequest: ${describeRequest(req)}\nresponse: ${describeResponse(res)}\ncase: ${JSON.stringify(spec).slice(0, 1500)}`);
    }
  }

  const paramsFor = (op: Operation) => fc.record(Object.fromEntries(op.pathParams.map((name) => [name, pathParamValue(name)])));
  const queryFor = (op: Operation) =>
    op.query.length ? queryString(op.query) : fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('x=1', 'a=1&a=2', '%zz', `q=${'a'.repeat(4000)}`) });
  const jsonBody = (op: Operation) =>
    fc.record({
      kind: fc.constant('json' as const),
      value: op.body ? valueFor(op.body.schema) : fc.constant<unknown>({}),
      mutation,
      encoding: jsonEncoding,
      contentType: jsonContentType,
    });
  const formBody = (op: Operation) =>
    fc.record({
      kind: fc.constant('form' as const),
      value: op.body ? valueFor(op.body.schema) : fc.record({ name: fc.constantFrom('Fuzz Org', 'x'), choice: fc.constantFrom('yes', 'no') }, { requiredKeys: [] }),
      mutation,
      encoding: formEncoding,
      contentType: formContentType,
    });
  const noBody = fc.constant({ kind: 'none' as const });
  /** A case for `op` sent mostly as its route expects (its own method and path); the property chooses credentials and body. */
  const routeCase = (op: Operation, { auth, cookie, body }: Pick<{ [K in keyof CaseSpec]: fc.Arbitrary<CaseSpec[K]> }, 'auth' | 'cookie' | 'body'>) =>
    fc.record({
      op: fc.constant(`${op.method} ${op.path}`),
      method: fc.oneof({ weight: 12, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom(...oddMethods) }),
      params: paramsFor(op),
      bend: fc.oneof({ weight: 15, arbitrary: fc.constant('asIs') }, { weight: 1, arbitrary: pathBend }),
      query: queryFor(op),
      auth,
      cookie,
      headers: extraHeaders,
      body,
      noise: fc.nat(),
    });

  function property(name: string, cases: fc.Arbitrary<CaseSpec>) {
    const budget = Math.round(TOTAL_BUDGET_MS * shares[name as keyof typeof shares]);
    const runs = Math.max(1, Math.round(TOTAL_RUNS * shares[name as keyof typeof shares]));
    return async () => {
      await fuzz.ensureSeeds();
      baseline = undefined;
      await fc.assert(
        fc.asyncProperty(cases, (spec) => runCase(name, spec)),
        { seed: SEED + Object.keys(shares).indexOf(name), numRuns: runs, interruptAfterTimeLimit: budget, markInterruptAsFailure: false },
      );
      expect(stats.byProperty[name] ?? 0).toBeGreaterThan(0);
    };
  }

  it(
    'JSON API: every /api/v1 operation with generated, mutated and mis-encoded bodies, queries, headers and credentials',
    () =>
      property(
        'api',
        fc.constantFrom(...ops.filter((op) => op.surface === 'api')).chain((op) =>
          routeCase(op, {
            auth: authKind,
            cookie: fc.constant<CookieKind>('none'),
            body: op.body || op.method !== 'GET' ? jsonBody(op) : fc.oneof({ weight: 8, arbitrary: noBody }, { weight: 1, arbitrary: jsonBody(op) }),
          }),
        ),
      )(),
    TOTAL_BUDGET_MS * shares.api + 120_000,
  );

  it(
    'customer pages and forms: every page and form with generated and mutated fields, encodings, sessions and CSRF tokens',
    () =>
      property(
        'pages',
        fc.constantFrom(...ops.filter((op) => op.surface !== 'api')).chain((op) =>
          routeCase(op, {
            auth: fc.oneof({ weight: 6, arbitrary: fc.constant<AuthKind>('none') }, { weight: 1, arbitrary: authKind }),
            cookie: cookieKind,
            body: op.method === 'POST' ? formBody(op) : fc.oneof({ weight: 8, arbitrary: noBody }, { weight: 1, arbitrary: formBody(op) }),
          }),
        ),
      )(),
    TOTAL_BUDGET_MS * shares.pages + 120_000,
  );

  it(
    'transport: odd methods, bent paths, oversized, compressed and cross-wired bodies on every route',
    () =>
      property(
        'transport',
        fc.constantFrom(...ops).chain((op) =>
          fc.record({
            op: fc.constant(`${op.method} ${op.path}`),
            method: fc.constantFrom(...oddMethods),
            params: paramsFor(op),
            bend: pathBend,
            query: queryFor(op),
            auth: authKind,
            cookie: cookieKind,
            headers: extraHeaders,
            body: fc.oneof(
              noBody,
              jsonBody(op),
              formBody(op),
              fc.record({
                kind: fc.constant('json' as const),
                value: nastyValue,
                mutation: fc.constant<Mutation>({ kind: 'none' }),
                encoding: fc.constantFrom<JsonEncoding>('oversized', 'gzipBomb', 'garbageEncoding', 'chunked', 'utf16', 'invalidUtf8'),
                contentType: jsonContentType,
              }),
            ),
            noise: fc.nat(),
          }),
        ),
      )(),
    TOTAL_BUDGET_MS * shares.transport + 120_000,
  );
});
