/**
 * The package's version for `--version`, read from its `package.json` at run time (the builds
 * do not copy it into the code). The CommonJS build starts from its own folder (`__dirname`);
 * the ES module build, which has neither `__dirname` nor (by project rule) `import.meta`, and
 * `tsx` start from the running script (`bin.js`/`bin.ts`, links resolved). Either way the
 * nearest `package.json` named `connectome-storage` above it is the package's own
 * (`dist/esm/package.json` and `dist/cjs/package.json` only say the module type).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'connectome-storage';

/** The folder to search upwards from. */
function startFolder(): string | undefined {
  if (typeof __dirname === 'string') return __dirname;
  const script = process.argv[1];
  if (script === undefined) return undefined;
  try {
    return dirname(realpathSync(script));
  } catch {
    return undefined;
  }
}

/** The `version` of the nearest `connectome-storage` package.json above this module, or `'unknown'`. */
export function packageVersion(): string {
  const start = startFolder();
  if (start === undefined) return 'unknown';
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // No (readable) package.json here: look further up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
