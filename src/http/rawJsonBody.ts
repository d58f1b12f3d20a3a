import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { MAX_BODY_DEPTH, nestedDeeperThan } from './bodyDepth.js';
import { AppError } from './errors.js';
import { API_BODY_LIMIT } from './jsonApi.js';

// The JSON body of a request served without Express (the access check's batch),
// held to the rules express.json() and boundedBodyDepth hold the rest of the
// API to: application/json only (415), at most API_BODY_LIMIT (413), valid JSON
// (400), nested at most MAX_BODY_DEPTH levels (400). raw-body's errors carry
// the same types as body-parser's, so toAppError maps them alike.

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (!JSON_MEDIA_TYPE.test(req.headers['content-type'] ?? '')) throw new AppError('unsupportedMediaType', 'Send the body as application/json.');
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') throw new AppError('unsupportedMediaType', 'Send the body uncompressed.');
  // As bytes, decoded once below: raw-body's own decoding goes through a stream decoder per request.
  const text = (await getRawBody(req, { limit: API_BODY_LIMIT, length: req.headers['content-length'] })).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError('validation', 'The body is not valid JSON.');
  }
  if (nestedDeeperThan(body, MAX_BODY_DEPTH)) throw new AppError('validation', `The body is nested more than ${MAX_BODY_DEPTH} levels deep.`);
  return body;
}
