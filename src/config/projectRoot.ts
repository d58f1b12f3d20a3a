import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest directory at or above `from` that holds a package.json. The code
 * runs from `src/` (tsx, tests) and from `dist/src/` (the build), so files kept
 * at the root (emails/, prisma/, .data/) are found from here, never by counting
 * `..` from a module.
 */
export function findProjectRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** This project's root directory, wherever the process was started from. */
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
