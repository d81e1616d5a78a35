/**
 * Whether a backend's driver package is installed, judged from this library's own location:
 * where its backends load their drivers from, also when the package is reached through a
 * symlink (pnpm) and the app's folder holds no such package. Both published entries run the
 * CommonJS build (the ES module entry wraps it), whose `require` is this module's own.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Packages whose install builds a native binding. Resolving one is not enough: installed with
 * `--ignore-scripts` (or for another platform) it resolves but fails to load, so availability
 * loads it, once, when asked (what `initialize()` would do anyway), never at import.
 */
const NATIVE_PACKAGES: ReadonlySet<string> = new Set(['sqlite3']);

/** Whether each native package loaded, so a failing load is tried once per process. */
const nativeLoads = new Map<string, boolean>();

/** This module's own `require`; only the sources run as ES modules lack one (then: the current directory's). */
function libraryRequire(): NodeJS.Require {
  return typeof require === 'function' ? require : createRequire(join(process.cwd(), 'noop.js'));
}

/**
 * True when `pkg` is installed where this library loads it from (and, for a package with a
 * native binding such as `sqlite3`, the binding loads).
 */
export function isPackageInstalled(pkg: string): boolean {
  const load = libraryRequire();
  try {
    load.resolve(pkg);
  } catch {
    return false;
  }
  if (!NATIVE_PACKAGES.has(pkg)) return true;
  let loads = nativeLoads.get(pkg);
  if (loads === undefined) {
    try {
      load(pkg);
      loads = true;
    } catch {
      loads = false;
    }
    nativeLoads.set(pkg, loads);
  }
  return loads;
}

/** The packages of `packages` that are not installed, in the given order. */
export function missingPackages(packages: readonly string[]): string[] {
  return packages.filter((pkg) => !isPackageInstalled(pkg));
}
