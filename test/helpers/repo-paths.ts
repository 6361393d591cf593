// Where the repository and its built CLI are, for tests that read repo files or run `meridian`.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI (`npm run build` first: it runs dist/). */
export const MERIDIAN_BIN = join(REPO_ROOT, 'bin', 'meridian.js');
