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

// The three found so far (undecodable path params, undecodable Content-Encoding and too many form
// fields, all 500s from toAppError) are fixed; test/api/malformedRequests.test.ts holds each exactly.
export const knownBugs: KnownBug[] = [];

export function knownBugOf(req: RawRequest, res: RawResponse): KnownBug | undefined {
  return knownBugs.find((bug) => bug.matches(req, res));
}
