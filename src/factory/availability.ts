/**
 * Whether a backend's driver package is installed. Works in both builds: the CommonJS
 * build resolves from this library's own location, the ES module build (which has no
 * `require`) from the current directory and from the main script.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Resolvers to try, most specific first. */
function resolvers(): NodeJS.RequireResolve[] {
  if (typeof require === 'function') return [require.resolve];
  const bases = [join(process.cwd(), 'noop.js'), process.argv[1]];
  return bases
    .filter((base): base is string => base !== undefined)
    .map((base) => createRequire(base).resolve);
}

/** True when `pkg` can be resolved (installed where this process can load it). */
export function isPackageInstalled(pkg: string): boolean {
  return resolvers().some((resolve) => {
    try {
      resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
}

/** The packages of `packages` that are not installed, in the given order. */
export function missingPackages(packages: readonly string[]): string[] {
  return packages.filter((pkg) => !isPackageInstalled(pkg));
}
