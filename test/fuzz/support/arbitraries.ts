import { gzipSync, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { XSS_MARKER } from './invariants.js';

// Generators for the fuzz suite, driven by the OpenAPI document the server
// publishes (so a route added tomorrow is fuzzed tomorrow). Values that must
// point at seeded data (a relationship id, an invitation token, the session's
// CSRF token, a registered tenant) are written as {{seed.NAME}} placeholders
// and filled in when the case runs, because the seeds can be replaced between
// properties; cases stay plain data, so fast-check can print and shrink them.

type JsonSchema = Record<string, unknown>;

export interface Operation {
  method: string;
  path: string;
  surface: 'api' | 'page' | 'dashboard';
  security: ('partner' | 'operator' | 'none')[];
  pathParams: string[];
  query: { name: string; required: boolean; schema: JsonSchema }[];
  headers: string[];
  body?: { mediaType: string; schema: JsonSchema };
}

export interface OpenApiLike {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, JsonSchema>; parameters?: Record<string, { name: string }> };
}

/** Every operation of the document, with its references resolved. */
export function operationsOf(doc: OpenApiLike): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(methods)) {
      const op = raw as {
        security?: Record<string, unknown>[];
        parameters?: ({ $ref: string } | { name: string; in: string; required?: boolean; schema?: JsonSchema })[];
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
      };
      const params = (op.parameters ?? []).map((p) => ('$ref' in p ? { ...doc.components.parameters?.[p.$ref.split('/').pop() ?? ''], in: 'header' } : p)) as {
        name: string;
        in: string;
        required?: boolean;
        schema?: JsonSchema;
      }[];
      const [mediaType, content] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        surface: path.startsWith('/api/v1/') ? 'api' : path.startsWith('/admin/queues') ? 'dashboard' : 'page',
        security: (op.security ?? [{}]).map((s) => ('partnerApiKey' in s ? 'partner' : 'operatorToken' in s ? 'operator' : 'none')),
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, required: p.required ?? false, schema: p.schema ?? {} })),
        headers: params.filter((p) => p.in === 'header').map((p) => p.name),
        ...(mediaType && content ? { body: { mediaType, schema: resolve(doc, content.schema) } } : {}),
      });
    }
  }
  return ops;
}

function resolve(doc: OpenApiLike, schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref === 'string') return resolve(doc, doc.components.schemas[ref.split('/').pop() ?? ''] ?? {});
  return schema;
}

export const seed = (name: string) => `{{seed.${name}}}`;

/**
 * encodeURIComponent, except that a lone surrogate (which it refuses) is sent as
 * the bytes a careless encoder would produce (WTF-8), so it still reaches the server.
 */
export function encodeLoose(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(text[i] ?? '');
  }
  return out;
}

// --- strings that have broken parsers, validators, templates and terminals before ---

const controlAndBidi = [
  '\u0000',
  'a\u0000b',
  '\u0007\u0008\u001b[31m',
  'line\nbreak',
  'cr\rlf\r\nBcc: victim@example.com',
  '\t',
  '\u007f',
  '\u0085',
  '\u2028\u2029',
  '\u202egnp.exe',
  'abc\u202edcba\u202c',
  '\u2066isolate\u2069',
  '\u200b\u200c\u200d',
  '\ufeffbom',
  '\ud800',
  '\udfff\ud800',
  '\u0301\u0301\u0301',
];
const unicodeOddities = ['Ω≈ç√∫', '𝕳𝖊𝖑𝖑𝖔', 'ﷺ', 'İı', 'ß', 'ａｄｍｉｎ', 'аdmin', '😀👩‍👩‍👧', 'テスト', 'مرحبا', 'Ⅻ', '٣', '\u00a0nbsp\u00a0'];
const injections = [
  `${XSS_MARKER}>`,
  `"'>${XSS_MARKER} onerror=1>`,
  `</textarea>${XSS_MARKER}>`,
  '{{7*7}}',
  '{{{constructor.constructor}}}',
  '${7*7}',
  '%s%s%n',
  '../../../../etc/passwd',
  "' OR 1=1 --",
  '"; DROP TABLE partners; --',
  '\\',
  '"',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
];
const numericish = ['NaN', 'Infinity', '-Infinity', '1e999', '-0', '0x1F', '1_000', '  1 ', '', ' ', '1.0', '+1', '９', '0e0', '9'.repeat(400)];
const domainish = [
  'EXAMPLE.COM',
  'example.com.',
  ' example.com ',
  'xn--',
  'xn--80ak6aa92e.com',
  'контора.example',
  'bücher.example',
  'a..b.com',
  '-lead.example',
  'trail-.example',
  'localhost',
  '127.0.0.1',
  '[::1]',
  '.',
  '..',
  `${'a'.repeat(64)}.example.com`,
  `${'a.'.repeat(130)}com`,
  '*.example.com',
  'exa mple.com',
  'example.com/evil',
  'example.com@evil.example',
];
const emailish = [
  'a@b',
  '@',
  'a@@b.example',
  'a@b..example',
  '"quoted"@example.com',
  'a b@example.com',
  'admin@example.com\nBcc: x@y.example',
  `${'a'.repeat(250)}@example.com`,
  'ADMIN@EXAMPLE.COM',
  'admin@xn--80ak6aa92e.com',
  'admin@контора.example',
  'user+tag@example.com',
  '<admin@example.com>',
  'admin@example.com, other@example.com',
];
const durationish = ['', '   ', '0s', '-1d', '1ms', '999ms', '300000y', '1e400d', '9007199254740993d', 'P', 'PT', 'P-1D', 'P99999999Y', 'P1Y2M3W4DT5H6M7S', '1 fortnight', '1d1d', 'Infinity'];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...controlAndBidi, ...unicodeOddities, ...injections, ...numericish, ...domainish, ...emailish, ...durationish) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...controlAndBidi, ...injections), fc.constantFrom('admin@', 'Contoso ', 'x.example.com')).map(([a, b]) => b + a) },
  // Lengths at and just past the limits the schemas state (200, 254, 300, 2000, 5000).
  { weight: 2, arbitrary: fc.constantFrom(1, 40, 41, 199, 200, 201, 254, 255, 300, 301, 2000, 2001, 5000, 5001, 20_000).map((n) => 'a'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(200, 254, 255, 300).map((n) => `${'a'.repeat(Math.max(1, n - 13))}@fz.example.com`) },
);

const nastyNumber = fc.constantFrom(-1, 0, 1, -0, 0.5, 1.5, 20, 21, 365, 366, 100_000, 100_001, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, Number.MIN_VALUE);

/** Nested arrays or objects, deeper than any schema expects (still small enough to fit the body limit). */
const deep = fc.tuple(fc.integer({ min: 20, max: 4000 }), fc.boolean()).map(([depth, arrays]) => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
  // fast-check prints a failing case recursively, which overflows the stack on thousands of levels;
  // a short description (a symbol key, which JSON.stringify ignores) stands in for it in reports.
  Object.defineProperty(value, fc.toStringMethod, { value: () => `<${depth} levels of ${arrays ? '[…]' : '{a:…}'}>` });
  return value;
});

export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: nastyString },
  { weight: 2, arbitrary: nastyNumber },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { '': '' }) },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(JSON.parse('{"__proto__":{"admin":true,"status":"active"}}'), { constructor: { prototype: { polluted: 1 } } }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

// --- valid values from the JSON schema, with seeded data where a field names it ---

const freshDomain = fc.stringMatching(/^[a-z0-9]{6}$/).map((s) => `fz-n-${s}.example.com`);
const domainValue = fc.oneof(fc.constantFrom(seed('tenantS'), seed('tenantO'), seed('unregisteredDomain')), freshDomain);
const emailValue = fc.oneof(
  fc.constantFrom(seed('adminS'), seed('adminO'), `contact@${seed('tenantS')}`),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{1,8}$/), domainValue).map(([l, d]) => `${l}@${d}`),
);
// Long enough for every policy bound discussed in issue 10 (no timer of a created relationship fires during the run).
const durationsByField: Record<string, string[]> = {
  duration: ['90d', '365d', 'P180D', '730 days'],
  invitationTtl: ['7d', '30d', 'P14D'],
  reminderBeforeExpiry: ['1d', 'P2D'],
  warningsBeforeEnd: ['7d', '1d'],
  autoExtendBy: ['90d', 'P365D'],
};

function stringFor(name: string, schema: JsonSchema): fc.Arbitrary<string> {
  if (/domain$/i.test(name) || name === 'tenant') return domainValue;
  if (/email$/i.test(name) || name === 'admins') return emailValue;
  if (name in durationsByField) return fc.constantFrom(...(durationsByField[name] ?? ['30d']));
  if (name === 'csrf') return fc.constant(seed('csrf'));
  if (name === 'invitation') return fc.constantFrom(seed('tokUnregistered'), seed('tokInvited'));
  if (name === 'partnerId') return fc.constantFrom(seed('partnerAId'), seed('partnerBId'));
  if (name === 'webhookUrl' || schema.format === 'uri') return fc.constantFrom('https://hooks.fz.example/in', 'http://hooks.fz.example:8080/x?y=1');
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'email') return emailValue;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = Math.max(min, Math.min(typeof schema.maxLength === 'number' ? schema.maxLength : 40, 40));
  const plain = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-.'), minLength: Math.max(min, 1), maxLength: Math.max(max, 1) });
  return plain.map((s) => (s.trim() ? s : `x${s}`));
}

export function valueFor(schema: JsonSchema, name = ''): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (variants?.length) return fc.oneof(...variants.map((v) => valueFor(v, name)));
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      const entries = Object.fromEntries(Object.entries(props).map(([key, sub]) => [key, valueFor(sub, key)]));
      return fc.record(entries, { requiredKeys: [...required].filter((k) => k in props) });
    }
    case 'array': {
      const items = (schema.items ?? {}) as JsonSchema;
      const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const maxLength = Math.max(minLength, Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 3, 3));
      if (Array.isArray(items.enum)) return fc.uniqueArray(fc.constantFrom(...(items.enum as unknown[])), { minLength, maxLength });
      return fc.array(valueFor(items, name), { minLength, maxLength });
    }
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
      const max = typeof schema.maximum === 'number' ? schema.maximum : min + 1000;
      return type === 'integer' ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'string':
      return stringFor(name, schema);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// --- mutations of a valid value ---

export type Mutation =
  | { kind: 'none' }
  | { kind: 'drop'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'add'; at: number; key: string; value: unknown }
  | { kind: 'duplicate'; at: number }
  | { kind: 'top'; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  { weight: 2, arbitrary: fc.nat().map<Mutation>((at) => ({ kind: 'drop', at })) },
  { weight: 6, arbitrary: fc.record({ at: fc.nat(), value: nastyValue }).map<Mutation>((m) => ({ kind: 'replace', ...m })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ at: fc.nat(), key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'actor', 'status', 'partnerId', 'id', ''), fc.string({ maxLength: 10 })), value: nastyValue })
      .map<Mutation>((m) => ({ kind: 'add', ...m })),
  },
  { weight: 1, arbitrary: fc.nat().map<Mutation>((at) => ({ kind: 'duplicate', at })) },
  { weight: 1, arbitrary: nastyValue.map<Mutation>((value) => ({ kind: 'top', value })) },
);

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

function slots(value: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      slots(v, out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key: k });
      slots(v, out);
    }
  }
  return out;
}

const containers = (value: unknown): (Record<string, unknown> | unknown[])[] => [
  ...(value && typeof value === 'object' ? [value as Record<string, unknown>] : []),
  ...slots(value)
    .map((s) => (s.parent as Record<string | number, unknown>)[s.key])
    .filter((v): v is Record<string, unknown> => !!v && typeof v === 'object'),
];

export function applyMutation(valid: unknown, m: Mutation): unknown {
  if (m.kind === 'none') return valid;
  if (m.kind === 'top') return m.value;
  const value = structuredClone(valid);
  if (m.kind === 'add') {
    const targets = containers(value).filter((c) => !Array.isArray(c));
    const target = targets[m.at % Math.max(1, targets.length)];
    if (target) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
    return value;
  }
  const all = slots(value);
  const slot = all[m.at % Math.max(1, all.length)];
  if (!slot) return m.kind === 'replace' ? m.value : value;
  const parent = slot.parent as Record<string | number, unknown>;
  if (m.kind === 'drop') {
    if (Array.isArray(slot.parent)) slot.parent.splice(Number(slot.key), 1);
    else delete parent[slot.key];
  } else if (m.kind === 'replace') parent[slot.key] = m.value;
  else if (m.kind === 'duplicate' && Array.isArray(slot.parent)) slot.parent.push(structuredClone(parent[slot.key]));
  else if (m.kind === 'duplicate') parent[slot.key] = [parent[slot.key], parent[slot.key]];
  return value;
}

// --- how a body travels: serialisation, media type, encoding, size ---

export type JsonEncoding =
  | 'json'
  | 'duplicateKeys'
  | 'malformed'
  | 'bom'
  | 'utf16'
  | 'invalidUtf8'
  | 'gzip'
  | 'deflate'
  | 'garbageEncoding'
  | 'gzipBomb'
  | 'oversized'
  | 'chunked'
  | 'empty'
  | 'none';

export const jsonEncoding: fc.Arbitrary<JsonEncoding> = fc.oneof(
  { weight: 14, arbitrary: fc.constant<JsonEncoding>('json') },
  { weight: 6, arbitrary: fc.constantFrom<JsonEncoding>('duplicateKeys', 'malformed', 'bom', 'utf16', 'invalidUtf8', 'gzip', 'deflate', 'garbageEncoding', 'gzipBomb', 'oversized', 'chunked', 'empty', 'none') },
);

export const jsonContentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 5,
    arbitrary: fc.constantFrom<string | undefined>(
      undefined,
      '',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;charset="UTF-8"',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json; charset=bogus-8',
      'application/json; charset=utf-8; charset=utf-16',
      'application/problem+json',
      'application/merge-patch+json',
      'application/json, text/plain',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=fz',
      'application/xml',
      '*/*',
      'application/',
      ';;;',
    ),
  },
);

export const formEncoding = fc.oneof(
  { weight: 12, arbitrary: fc.constant('form' as const) },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'duplicateKeys' as const,
      'tooManyFields' as const,
      'badPercent' as const,
      'asJson' as const,
      'multipart' as const,
      'oversized' as const,
      'gzip' as const,
      'garbageEncoding' as const,
      'chunked' as const,
      'empty' as const,
      'none' as const,
    ),
  },
);
export type FormEncoding = typeof formEncoding extends fc.Arbitrary<infer T> ? T : never;

export const formContentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/x-www-form-urlencoded') },
  {
    weight: 4,
    arbitrary: fc.constantFrom<string | undefined>(
      undefined,
      'application/x-www-form-urlencoded; charset=UTF-8',
      'application/x-www-form-urlencoded; charset=utf-16',
      'application/x-www-form-urlencoded; charset=iso-8859-1',
      'application/x-www-form-urlencoded; charset=nope',
      'Application/X-WWW-Form-Urlencoded',
      'application/json',
      'text/plain',
      'multipart/form-data; boundary=fz',
    ),
  },
);

/** Bytes to send and the headers they need. `limit` is the route's body limit in bytes. */
export function encodeJson(value: unknown, encoding: JsonEncoding, noise: number, limit: number): { body?: Buffer; headers: [string, string][] } {
  const text = value === undefined ? '' : JSON.stringify(value) ?? 'null';
  const buf = (s: string) => Buffer.from(s, 'utf8');
  switch (encoding) {
    case 'json':
      return { body: buf(text), headers: [] };
    case 'duplicateKeys':
      return { body: buf(text.startsWith('{"') ? `{"__dup":1,"__dup":2,${text.slice(1)}`.replace(',}', '}') : `{"a":${text},"a":${text}}`), headers: [] };
    case 'malformed': {
      const cut = text.slice(0, noise % Math.max(1, text.length));
      const variants = [cut, `${text},`, text.replace('"', "'"), `${text}}`, `[${text}`, 'undefined', '{', '{"a":1,}', 'nul', '\u0000', `${text}\u0000`, `{"a":"\\x41"}`, `{"a":"\\ud800"}`, '{"a":0x10}', '{"a":NaN}', '{"a":1e999}'];
      return { body: buf(variants[noise % variants.length] ?? '{'), headers: [] };
    }
    case 'bom':
      return { body: buf(`\ufeff${text}`), headers: [] };
    case 'utf16':
      return { body: Buffer.from(text, 'utf16le'), headers: [] };
    case 'invalidUtf8':
      return { body: Buffer.concat([buf(text.slice(0, -2)), Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80]), buf(text.slice(-2))]), headers: [] };
    case 'gzip':
      return { body: gzipSync(buf(text)), headers: [['Content-Encoding', 'gzip']] };
    case 'deflate':
      return { body: deflateSync(buf(text)), headers: [['Content-Encoding', noise % 2 ? 'deflate' : 'DEFLATE']] };
    case 'garbageEncoding': {
      const names = ['gzip', 'deflate', 'br', 'x-gzip', 'compress', 'identity', 'gzip, gzip', 'gzip, identity', 'zstd', 'bogus'];
      return { body: Buffer.from(Array.from({ length: 16 + (noise % 200) }, (_, i) => (i * 7919 + noise) % 256)), headers: [['Content-Encoding', names[noise % names.length] ?? 'gzip']] };
    }
    case 'gzipBomb':
      return { body: gzipSync(buf(`{"name":"${'a'.repeat(4 * 1024 * 1024)}"}`)), headers: [['Content-Encoding', 'gzip']] };
    case 'oversized': {
      const over = limit + 1 + (noise % 2048);
      return { body: buf(`{"pad":"${'a'.repeat(over)}"}`), headers: [] };
    }
    case 'chunked':
      return { body: buf(text), headers: [['Transfer-Encoding', 'chunked']] };
    case 'empty':
      return { body: Buffer.alloc(0), headers: [['Content-Length', '0']] };
    case 'none':
      return { headers: [] };
  }
}

const enc = (s: string) => encodeLoose(s).replace(/%20/g, '+');

export function encodeForm(fields: [string, string][], encoding: FormEncoding, noise: number, limit: number): { body?: Buffer; headers: [string, string][] } {
  const plain = fields.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  switch (encoding) {
    case 'form':
      return { body: Buffer.from(plain), headers: [] };
    case 'duplicateKeys':
      return { body: Buffer.from(`${plain}&${plain}`), headers: [] };
    case 'tooManyFields':
      return { body: Buffer.from([plain, ...Array.from({ length: 21 + (noise % 40) }, (_, i) => `f${i}=${i}`)].filter(Boolean).join('&')), headers: [] };
    case 'badPercent': {
      const bad = ['%', '%zz', '%00', '%ff%fe', '%c0%af', '%ed%a0%80', '%u0041', '&&&', '=', '=&=', '%%', 'a[b]=c', 'a[]=1&a[]=2', '__proto__[x]=1'];
      return { body: Buffer.from(`${plain}&${bad[noise % bad.length] ?? '%'}`), headers: [] };
    }
    case 'asJson':
      return { body: Buffer.from(JSON.stringify(Object.fromEntries(fields))), headers: [] };
    case 'multipart': {
      const parts = fields.map(([k, v]) => `--fz\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('');
      return { body: Buffer.from(`${parts}--fz--\r\n`), headers: [] };
    }
    case 'oversized':
      return { body: Buffer.from(`${plain}&pad=${'a'.repeat(limit + 1 + (noise % 2048))}`), headers: [] };
    case 'gzip':
      return { body: gzipSync(Buffer.from(plain)), headers: [['Content-Encoding', noise % 2 ? 'gzip' : 'x-gzip']] };
    case 'garbageEncoding':
      return { body: Buffer.from(Array.from({ length: 16 + (noise % 100) }, (_, i) => (i * 31 + noise) % 256)), headers: [['Content-Encoding', ['gzip', 'deflate', 'br', 'bogus'][noise % 4] ?? 'gzip']] };
    case 'chunked':
      return { body: Buffer.from(plain), headers: [['Transfer-Encoding', 'chunked']] };
    case 'empty':
      return { body: Buffer.alloc(0), headers: [['Content-Length', '0']] };
    case 'none':
      return { headers: [] };
  }
}

// --- path parameters, query strings, headers, credentials ---

const pathGarbage = fc.constantFrom(
  '..',
  '.',
  '%2e%2e',
  '%2E%2E%2F..%2Fadmin',
  '..%2f..%2fapi%2fv1%2fadmin%2fpartners',
  '%00',
  '%ZZ',
  '%',
  '%u0041',
  '%C0%AE',
  '%E2%80%AE',
  'null',
  'undefined',
  '0',
  '-1',
  '*',
  '%20',
  '%3Cfz-x%3E',
  'a'.repeat(3000),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '{00000000-0000-0000-0000-000000000000}',
  'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA',
);

const seededParam: Record<string, string[]> = {
  id: ['relInvited', 'relActive', 'relOther', 'relContact', 'relUnregistered', 'partnerAId'],
  token: ['tokInvited', 'tokContact', 'tokUnregistered', 'tokChallenge', 'tokAdminInvite', 'tokSignIn'],
  domain: ['tenantS', 'tenantO', 'unregisteredDomain'],
  email: ['adminS', 'adminO'],
};

export function pathParamValue(name: string): fc.Arbitrary<string> {
  const seeded = seededParam[name];
  const valid =
    name === 'domain'
      ? fc.oneof(fc.constantFrom(...(seeded ?? []).map(seed)), freshDomain, fc.constantFrom(...domainish).map(encodeLoose))
      : name === 'email'
        ? fc.oneof(fc.constantFrom(...(seeded ?? []).map(seed)), emailValue.map(encodeLoose), fc.constantFrom(...emailish).map(encodeLoose))
        : name === 'type'
          ? fc.constantFrom('validation', 'unauthorized', 'notFound', 'internal', 'stepRefused', 'nope', 'VALIDATION', '__proto__', 'constructor', 'toString')
          : seeded
            ? fc.constantFrom(...seeded.map(seed))
            : fc.constant('x');
  const other = name === 'token' ? fc.oneof(fc.base64String({ minLength: 43, maxLength: 44 }).map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')), fc.constant('a'.repeat(43))) : fc.uuid();
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 2, arbitrary: other }, { weight: 2, arbitrary: pathGarbage }, { weight: 1, arbitrary: nastyString.map(encodeLoose) });
}

/** A query string (without '?'): valid parameters, repeated ones, unknown ones, missing ones, huge ones. */
export function queryString(params: { name: string; required: boolean; schema: JsonSchema }[]): fc.Arbitrary<string> {
  const valid = fc.record(Object.fromEntries(params.map((p) => [p.name, valueFor(p.schema, p.name)])), { requiredKeys: params.filter((p) => p.required).map((p) => p.name) });
  const pairs = valid.map((v) => Object.entries(v).map(([k, x]) => [k, String(x)] as [string, string]));
  const weird = fc.oneof(
    fc.constant<[string, string][]>([]),
    fc.tuple(fc.constantFrom(...params.map((p) => p.name), 'limit', 'status', 'tenant', 'x'), nastyString).map(([k, v]) => [[k, v]] as [string, string][]),
    fc.constantFrom<[string, string][]>([['__proto__[admin]', '1']], [['constructor[prototype][x]', '1']], [['tenant[]', 'a']], [['limit', '1e3']], [['limit', '-1']], [['limit', '0x10']]),
  );
  return fc
    .tuple(pairs, weird, fc.constantFrom('plain', 'repeat', 'huge', 'raw'), fc.nat())
    .map(([good, bad, style, n]) => {
      const all = [...good, ...bad];
      const encoded = all.map(([k, v]) => `${encodeLoose(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeLoose(v)}`);
      if (style === 'repeat' && encoded.length) return [...encoded, ...encoded].join('&');
      if (style === 'huge') return [...encoded, `${params[0]?.name ?? 'q'}=${'a'.repeat(2000 + (n % 6000))}`].join('&');
      if (style === 'raw') return [...encoded, ['%zz', '&&', '=', '%00=%00', 'a=1&a=2&a=3', 'x=%E2%80%AE'][n % 6]].join('&');
      return encoded.join('&');
    });
}

export type AuthKind =
  | 'none'
  | 'partnerA'
  | 'partnerB'
  | 'operator'
  | 'operatorBasic'
  | 'unknownKey'
  | 'truncatedOperator'
  | 'extendedPartner'
  | 'lowercaseScheme'
  | 'noScheme'
  | 'emptyBearer'
  | 'twoTokens'
  | 'basicGarbage'
  | 'hugeToken'
  | 'latin1';

export const authKind: fc.Arbitrary<AuthKind> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<AuthKind>('partnerA', 'operator') },
  { weight: 3, arbitrary: fc.constantFrom<AuthKind>('none', 'partnerB') },
  {
    weight: 4,
    arbitrary: fc.constantFrom<AuthKind>('operatorBasic', 'unknownKey', 'truncatedOperator', 'extendedPartner', 'lowercaseScheme', 'noScheme', 'emptyBearer', 'twoTokens', 'basicGarbage', 'hugeToken', 'latin1'),
  },
);

export function authHeader(kind: AuthKind, keys: { operator: string; partnerA: string; partnerB: string }): string | undefined {
  switch (kind) {
    case 'none':
      return undefined;
    case 'partnerA':
      return `Bearer ${keys.partnerA}`;
    case 'partnerB':
      return `Bearer ${keys.partnerB}`;
    case 'operator':
      return `Bearer ${keys.operator}`;
    case 'operatorBasic':
      return `Basic ${Buffer.from(`op:${keys.operator}`).toString('base64')}`;
    case 'unknownKey':
      return `Bearer pf_${'A'.repeat(43)}`;
    case 'truncatedOperator':
      return `Bearer ${keys.operator.slice(0, -1)}`;
    case 'extendedPartner':
      return `Bearer ${keys.partnerA}x`;
    case 'lowercaseScheme':
      return `bearer  ${keys.partnerA}`;
    case 'noScheme':
      return keys.partnerA;
    case 'emptyBearer':
      return 'Bearer ';
    case 'twoTokens':
      return `Bearer ${keys.partnerA} ${keys.operator}`;
    case 'basicGarbage':
      return 'Basic !!!not-base64';
    case 'hugeToken':
      return `Bearer ${'x'.repeat(8000)}`;
    case 'latin1':
      return 'Bearer \u00ff\u00fe\u00e9';
  }
}

export type CookieKind = 'none' | 'session' | 'tampered' | 'garbage' | 'unsigned' | 'huge';
export const cookieKind: fc.Arbitrary<CookieKind> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<CookieKind>('session', 'none') },
  { weight: 2, arbitrary: fc.constantFrom<CookieKind>('tampered', 'garbage', 'unsigned', 'huge') },
);

export function cookieHeader(kind: CookieKind, sessionCookie: string): string | undefined {
  const [name = 'pf_session', value = ''] = sessionCookie.split(/=(.*)/s);
  switch (kind) {
    case 'none':
      return undefined;
    case 'session':
      return sessionCookie;
    case 'tampered': {
      const i = Math.max(0, Math.floor(value.length / 2));
      return `${name}=${value.slice(0, i)}${value[i] === 'A' ? 'B' : 'A'}${value.slice(i + 1)}`;
    }
    case 'garbage':
      return `${name}=s%3A%7B%22tenant%22%3A%22x%22%7D.bad; ${name}=j%3A%5B%5D`;
    case 'unsigned':
      return `${name}=${encodeURIComponent(JSON.stringify({ tenant: 'x.example.com', email: 'a@x.example.com', csrf: 'c', exp: 9e15 }))}`;
    case 'huge':
      return `${name}=${'a'.repeat(6000)}`;
  }
}

/** Extra headers a client might send: conditional requests, idempotency keys, odd Accepts, forwarded-for. */
export const extraHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('Idempotency-Key'), fc.oneof(fc.uuid(), fc.constantFrom('', ' ', 'a'.repeat(201), 'ÿé', 'key with spaces', 'fz-fixed-key'))),
    fc.tuple(fc.constantFrom('If-Match', 'If-None-Match'), fc.constantFrom('*', '"x"', 'W/"x"', '"', '', 'garbage', '"a", "b"', `"${'f'.repeat(500)}"`)),
    fc.tuple(fc.constant('Accept'), fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', 'image/png', '', ';;')),
    fc.tuple(fc.constant('Accept-Encoding'), fc.constantFrom('gzip', 'br', 'identity;q=0', '*;q=0')),
    fc.tuple(fc.constant('X-Forwarded-For'), fc.constantFrom('127.0.0.1', '::1', 'garbage', '1.1.1.1, 2.2.2.2')),
    fc.tuple(fc.constant('Origin'), fc.constantFrom('https://evil.example', 'null')),
    fc.tuple(fc.constant('Range'), fc.constantFrom('bytes=0-1', 'bytes=-1', 'bytes=9999999-')),
  ),
  { maxLength: 3 },
);

export const oddMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'LOCK', 'SEARCH'] as const;

/** Ways to bend a path on the way in: traversal, doubled slashes, case, suffixes, unknown neighbours. */
export const pathBends: Record<string, (p: string) => string> = {
  asIs: (p) => p,
  trailingSlash: (p) => `${p}/`,
  dotDot: (p) => `${p}/..`,
  dotDotBack: (p) => `${p}/../..${p}`,
  leadingDoubleSlash: (p) => `/${p}`,
  doubledSlashes: (p) => p.replace(/\//g, '//'),
  upperCase: (p) => p.toUpperCase(),
  matrixParam: (p) => `${p};x=1`,
  encodedSlash: (p) => `${p}%2F`,
  dotSegment: (p) => `${p}/./`,
  extraSegment: (p) => `${p}/extra`,
  jsonSuffix: (p) => `${p}.json`,
  otherVersion: (p) => p.replace('/api/v1', '/api/v2'),
  dotInPrefix: (p) => p.replace('/api/v1', '/api/v1/.'),
  nulSuffix: (p) => `${p}%00`,
  fragment: (p) => `${p}#frag`,
  encodedTraversalPrefix: (p) => `/%2e%2e${p}`,
};
export const pathBend = fc.constantFrom(...Object.keys(pathBends));
