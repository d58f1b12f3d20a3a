import { fileURLToPath } from 'node:url';
import path from 'node:path';

// Resolved from this file rather than process.cwd() so the scripts work when
// started from any directory (npm runs them at the root, people often don't).
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
