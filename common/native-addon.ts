// Loading one of this package's native addons (binding.gyp, built by `npm install` when python3,
// make and g++ are present). Each has a pure-JavaScript fallback, so a missing addon is a reason
// to report, never an error.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AddonLoad<T> =
  { readonly addon: T; readonly unavailable?: undefined } | { readonly addon: null; readonly unavailable: string };

/**
 * build/Release/<target>.node, checked to export `functions`; null with the reason otherwise.
 * `what` names the Linux-only feature in that reason.
 */
export function loadAddon<T>(target: string, functions: readonly string[], what: string): AddonLoad<T> {
  if (process.platform !== 'linux') return { addon: null, unavailable: `${what} is Linux-only` };
  const file = addonPath(target);
  if (!file)
    return {
      addon: null,
      unavailable: `build/Release/${target}.node was not built (npm install builds it when python3, make and g++ are present)`,
    };
  try {
    const mod = createRequire(import.meta.url)(file) as Record<string, unknown>;
    const missing = functions.find((f) => typeof mod[f] !== 'function');
    if (missing) throw new Error(`the module has no ${missing}()`);
    return { addon: mod as T };
  } catch (e) {
    return { addon: null, unavailable: `cannot load ${file}: ${(e as Error).message}` };
  }
}

/** build/Release/<target>.node of this package, from source (common/) or dist (dist/common/). */
function addonPath(target: string): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      const file = join(dir, 'build', 'Release', `${target}.node`);
      return existsSync(file) ? file : null;
    }
    dir = dirname(dir);
  }
  return null;
}
