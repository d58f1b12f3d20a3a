import type { RawRequest, RawResponse } from './rawHttp.js';

// Bugs this suite found in app code that are not fixed yet. Each entry names
// exactly the input shape that triggers it; for that shape only the "no 5xx"
// invariant is waived (the answer must still be a well-formed problem or page
// with nothing internal in it). Delete an entry when its fix lands: the suite
// then holds the fix in place.

export interface KnownBug {
  id: string;
  what: string;
  matches(req: RawRequest, res: RawResponse): boolean;
}

const header = (req: RawRequest, name: string) => req.headers.find(([k]) => k.toLowerCase() === name)?.[1];

const undecodableSegment = (path: string) =>
  path
    .split(/[?#]/)[0]
    ?.split('/')
    .some((segment) => {
      try {
        decodeURIComponent(segment);
        return false;
      } catch {
        return true;
      }
    }) ?? false;

export const knownBugs: KnownBug[] = [
  {
    id: 'undecodable-path-param',
    what:
      'A route parameter that is not valid percent-encoding (e.g. /tenant-admins/confirm/%u0041, /api/v1/relationships/%ZZ) answers 500: ' +
      "the router's URIError carries status 400, but toAppError (src/api/errors.ts) maps every error it does not know to `internal`.",
    matches: (req, res) => res.status === 500 && undecodableSegment(req.path),
  },
  {
    id: 'undecodable-content-encoding',
    what:
      'A body whose Content-Encoding (gzip/deflate/br) does not decode answers 500: body-parser raises http-errors 400 with no `type`, ' +
      'which toAppError (src/api/errors.ts) maps to `internal`.',
    matches: (req, res) => res.status === 500 && header(req, 'content-encoding') !== undefined,
  },
  {
    id: 'too-many-form-fields',
    what:
      'A form body with more than 20 fields (the urlencoded parser\'s parameterLimit) answers 500 on every route outside /api/v1: ' +
      'body-parser raises 413 `parameters.too.many`, which toAppError (src/api/errors.ts) maps to `internal`.',
    matches: (req, res) =>
      res.status === 500 &&
      /^application\/x-www-form-urlencoded/i.test(header(req, 'content-type') ?? '') &&
      (req.body?.toString('latin1').split('&').length ?? 0) > 20,
  },
];

export function knownBugOf(req: RawRequest, res: RawResponse): KnownBug | undefined {
  return knownBugs.find((bug) => bug.matches(req, res));
}
