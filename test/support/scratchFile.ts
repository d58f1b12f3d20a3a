import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/**
 * A path in a fresh temporary directory (`relativePath` inside it, not yet
 * created), for the whole describe block or, with `each`, for every test;
 * the directory is removed after. Read `.file` inside tests and hooks.
 */
export function useScratchFile(prefix: string, relativePath: string, options: { each?: boolean } = {}): { readonly file: string } {
  let directory: string | undefined;
  const [before, after] = options.each ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), prefix));
  });
  after(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });
  return {
    get file() {
      if (!directory) throw new Error('useScratchFile: read .file inside a test or hook');
      return path.join(directory, relativePath);
    },
  };
}
