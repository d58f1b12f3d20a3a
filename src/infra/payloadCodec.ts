import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: node's ESM loader (tsx, the compiled build) sees only its default export.
import proto from '@temporalio/proto';
import type { Config } from '../config/config.js';

const { temporal } = proto;

// Every Temporal payload this project writes (workflow inputs and results,
// signals, updates, queries, activity arguments, memos, summaries) is encrypted
// here before it leaves the process, so the Temporal server, its Web UI and
// Temporal Cloud hold only ciphertext. Search attributes are not payloads the
// SDK passes through a codec, so they stay searchable.
//
// The whole payload (its metadata, which names the encoding, and its data) is
// serialised and sealed with AES-256-GCM; the envelope says only that it is
// encrypted and with which key id, so keys can rotate: new payloads use the
// current key, older ones stay readable while their key is configured.

/** The `encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata entry naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The configured keys (id to 32-byte key) and the id of the one that encrypts. */
export interface PayloadKeyring {
  keys: ReadonlyMap<string, Uint8Array>;
  currentKeyId: string;
}

/** A payload that cannot be decrypted: its key is not configured, or it was altered. Never carries key material. */
export class PayloadDecryptionError extends Error {
  constructor(
    readonly reason: 'unknownKey' | 'tampered' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Whether a payload carries this codec's encryption (others, e.g. from histories written before it, pass through). */
export function isEncryptedPayload(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && fromUtf8.decode(encoding) === ENCRYPTED_ENCODING;
}

function keyOf(keyring: PayloadKeyring, id: string): Uint8Array {
  const key = keyring.keys.get(id);
  if (!key) {
    throw new PayloadDecryptionError('unknownKey', `A payload is encrypted with key "${id}", which PAYLOAD_ENCRYPTION_KEYS does not list; add that key back to read it.`);
  }
  return key;
}

function encrypt(keyring: PayloadKeyring, payload: Payload): Payload {
  const id = keyring.currentKeyId;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, keyOf(keyring, id), iv, { authTagLength: TAG_BYTES });
  // The key id is authenticated too: a payload relabelled with another id fails to open.
  cipher.setAAD(utf8.encode(id));
  const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
  const sealed = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(id) }, data: sealed };
}

function decrypt(keyring: PayloadKeyring, payload: Payload): Payload {
  const idBytes = payload.metadata?.[KEY_ID_METADATA];
  const sealed = payload.data;
  if (!idBytes || !sealed || sealed.length < IV_BYTES + TAG_BYTES) {
    throw new PayloadDecryptionError('malformed', 'An encrypted payload lacks its key id or is too short to be one.');
  }
  const id = fromUtf8.decode(idBytes);
  const decipher = createDecipheriv(ALGORITHM, keyOf(keyring, id), sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(idBytes);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PayloadDecryptionError('tampered', `A payload encrypted with key "${id}" fails authentication: it was altered, or that id now names another key.`);
  }
  const inner = temporal.api.common.v1.Payload.decode(plaintext);
  return { metadata: inner.metadata, data: inner.data };
}

export function createPayloadCodec(keyring: PayloadKeyring): PayloadCodec {
  // Fails at start-up, not at the first workflow, when the current id names no key.
  keyOf(keyring, keyring.currentKeyId);
  return {
    // Through a Promise executor: a payload that fails to decrypt rejects the promise instead of throwing at the call.
    encode: (payloads) => new Promise((resolve) => resolve(payloads.map((payload) => encrypt(keyring, payload)))),
    decode: (payloads) => new Promise((resolve) => resolve(payloads.map((payload) => (isEncryptedPayload(payload) ? decrypt(keyring, payload) : payload)))),
  };
}

/** The data converter of every Temporal client and worker of the project: the default converters, then this codec. */
export function encryptingDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec] };
}

/** The codec the configuration asks for (PAYLOAD_ENCRYPTION_KEYS, PAYLOAD_ENCRYPTION_KEY_ID). */
export function payloadCodecOf(config: Pick<Config, 'PAYLOAD_ENCRYPTION_KEYS' | 'PAYLOAD_ENCRYPTION_KEY_ID'>): PayloadCodec {
  return createPayloadCodec({ keys: config.PAYLOAD_ENCRYPTION_KEYS, currentKeyId: config.PAYLOAD_ENCRYPTION_KEY_ID });
}
