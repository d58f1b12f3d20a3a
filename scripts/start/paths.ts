import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../../src/config/projectRoot.js';

// The project root comes from package.json, not process.cwd(), so the scripts
// work when started from any directory (npm runs them at the root, people
// often don't) and from dist/scripts as well as from scripts/.
export { projectRoot };

/** True when these scripts run compiled (`npm start`: dist/scripts) rather than from the sources (`npm run dev:start`). */
export const runsCompiled = fileURLToPath(import.meta.url).endsWith('.js');

/**
 * The file that runs one of this project's entry points (`entry`: its path from
 * the root, no extension) the way this launcher runs: `dist/<entry>.js` when
 * compiled, `<entry>.ts` from the sources.
 */
export function entryFile(entry: string): string {
  return runsCompiled ? path.join(projectRoot, 'dist', `${entry}.js`) : path.join(projectRoot, `${entry}.ts`);
}

/**
 * Node's flags for a child entry point: this process's own, so a launcher run
 * from the sources hands its TypeScript loader on and a compiled one hands on
 * nothing. A debugger's flags stay here (the children would fight over its port).
 */
export function childExecArgv(): string[] {
  return process.execArgv.filter((flag) => !flag.startsWith('--inspect'));
}
