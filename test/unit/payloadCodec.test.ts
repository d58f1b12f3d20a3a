import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadDecryptionError } from '../../src/infra/payloadCodec.js';

// The codec every Temporal client and worker uses: what leaves the process is
// ciphertext, old keys keep working while configured, and an altered payload
// is refused rather than decoded into something else.

const input = { customer: { tenantDomain: 'contoso.example', adminEmail: 'admin@contoso.example', name: 'Ada Admin' }, terms: 'Secret terms' };
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (payload: Payload) => Buffer.from(payload.data ?? new Uint8Array()).toString('latin1');
const metadata = (payload: Payload, key: string) => Buffer.from(payload.metadata?.[key] ?? new Uint8Array()).toString('utf8');

const oldKey = randomBytes(32);
const newKey = randomBytes(32);

describe('the payload codec', () => {
  it('encrypts the whole payload (data and its encoding) and says only which key', async () => {
    const codec = createPayloadCodec({ keys: new Map([['k1', oldKey]]), currentKeyId: 'k1' });
    const [encoded] = await codec.encode([plain(input)]);
    expect(Object.keys(encoded?.metadata ?? {}).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    expect(metadata(encoded!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(metadata(encoded!, KEY_ID_METADATA)).toBe('k1');
    expect(text(encoded!)).not.toContain('admin@contoso.example');
    expect(text(encoded!)).not.toContain('Ada Admin');
    expect(text(encoded!)).not.toContain('json/plain');
    // A fresh IV each time: the same value never encrypts to the same bytes.
    const [again] = await codec.encode([plain(input)]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(encoded!.data!))).toBe(false);

    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(input);
  });

  it('passes payloads without its encoding through on decode (histories written before encryption)', async () => {
    const codec = createPayloadCodec({ keys: new Map([['k1', oldKey]]), currentKeyId: 'k1' });
    const old = plain(input);
    expect(await codec.decode([old])).toEqual([old]);
  });

  it('rotates: new payloads use the current key, old ones decode while their key is configured', async () => {
    const before = createPayloadCodec({ keys: new Map([['2026-01', oldKey]]), currentKeyId: '2026-01' });
    const [underOldKey] = await before.encode([plain(input)]);

    const rotated = createPayloadCodec({ keys: new Map([['2026-01', oldKey], ['2026-12', newKey]]), currentKeyId: '2026-12' });
    const [underNewKey] = await rotated.encode([plain(input)]);
    expect(metadata(underNewKey!, KEY_ID_METADATA)).toBe('2026-12');
    const decoded = await rotated.decode([underOldKey!, underNewKey!]);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([input, input]);

    // Once the old key is dropped, its payloads fail clearly, naming the key id and nothing of the key.
    const oldKeyDropped = createPayloadCodec({ keys: new Map([['2026-12', newKey]]), currentKeyId: '2026-12' });
    const refusal = await oldKeyDropped.decode([underOldKey!]).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(PayloadDecryptionError);
    expect(refusal).toMatchObject({ reason: 'unknownKey' });
    expect((refusal as Error).message).toContain('"2026-01"');
    expect((refusal as Error).message).not.toContain(oldKey.toString('base64'));
    expect(await oldKeyDropped.decode([underNewKey!]).then((p) => p.map((x) => defaultPayloadConverter.fromPayload(x)))).toEqual([input]);
  });

  it('refuses a payload whose ciphertext, tag or key id was altered (GCM authentication)', async () => {
    const codec = createPayloadCodec({ keys: new Map([['a', oldKey], ['b', newKey]]), currentKeyId: 'a' });
    const [encoded] = await codec.encode([plain(input)]);
    const flipped = (at: number): Payload => {
      const data = Buffer.from(encoded!.data!);
      data[at] = data[at]! ^ 0x01;
      return { ...encoded!, data };
    };
    const length = encoded!.data!.length;
    const relabelled: Payload = { ...encoded!, metadata: { ...encoded!.metadata, [KEY_ID_METADATA]: Buffer.from('b') } };
    for (const tampered of [flipped(20), flipped(length - 1), flipped(0), relabelled]) {
      await expect(codec.decode([tampered])).rejects.toMatchObject({ name: 'PayloadDecryptionError', reason: 'tampered' });
    }
    await expect(codec.decode([{ ...encoded!, data: Buffer.alloc(10) }])).rejects.toMatchObject({ reason: 'malformed' });
  });

  it('will not start with a current key id that names no key', () => {
    expect(() => createPayloadCodec({ keys: new Map([['a', oldKey]]), currentKeyId: 'b' })).toThrow(/"b"/);
  });
});
