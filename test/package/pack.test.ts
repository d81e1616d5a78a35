/**
 * The package as users get it. A fresh copy of the sources (no `dist/`) is packed once with
 * `npm pack`, and the tarball unpacked into a temp consumer project whose dependencies resolve
 * through this repository's `node_modules` (no install, so the test stays offline and cheap;
 * the one build is most of its time). `scripts/check-consumers.mjs` (CI) installs it for real.
 * `CONNECTOME_PACKAGE_TARBALL=<file.tgz>` checks that tarball instead (e.g. an older release).
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
/** What `npm pack` needs from a checkout. */
const SOURCES = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'LICENSE',
  'docs/performance-history.md',
  'scripts/build.mjs',
  'src',
];

let work = '';
let tarFiles: string[] = [];
/** The consumer project, with the package in `node_modules/connectome-storage`. */
let consumer = '';
/** A folder outside `work`, so no `node_modules` above it holds the drivers. */
let elsewhere = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'connectome-package-'));
  const copy = join(work, 'checkout');
  for (const entry of SOURCES) {
    if (existsSync(join(repo, entry))) cpSync(join(repo, entry), join(copy, entry), { recursive: true });
  }
  const modules = realpathSync(join(repo, 'node_modules'));
  symlinkSync(modules, join(copy, 'node_modules'), 'dir');
  const packs = join(work, 'packs');
  mkdirSync(packs);
  const given = process.env.CONNECTOME_PACKAGE_TARBALL;
  if (given === undefined || given === '') {
    // Lifecycle scripts (prepack) run as `npm pack` would run them for a publish.
    execFileSync('npm', ['pack', '--pack-destination', packs], {
      cwd: copy,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  const tarball =
    given || join(packs, readdirSync(packs).find((name) => name.endsWith('.tgz')) ?? 'missing.tgz');
  tarFiles = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);

  // An installed package's dependencies resolve from the folders above it: here the repository's.
  symlinkSync(modules, join(work, 'node_modules'), 'dir');
  consumer = join(work, 'consumer');
  mkdirSync(join(consumer, 'node_modules'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(consumer, 'node_modules')]);
  renameSync(join(consumer, 'node_modules/package'), join(consumer, 'node_modules/connectome-storage'));
}, 15 * 60_000);

afterAll(() => {
  for (const dir of [work, elsewhere]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('builds before packing, so a checkout without dist/ ships both builds and their declarations', () => {
    for (const file of [
      'dist/cjs/index.js',
      'dist/esm/index.js',
      'dist/cjs/backend.js',
      'dist/esm/backend.js',
      'dist/cjs/cli/bin.js',
    ]) {
      expect(tarFiles).toContain(`package/${file}`);
    }
    expect(tarFiles.some((file) => file.endsWith('.d.ts'))).toBe(true);
  });

  it('ships the MIT license', () => {
    expect(tarFiles).toContain('package/LICENSE');
  });

  it('ships every file the README links to, so its links work where npm shows it', () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const targets = new Set(
      [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
        .map((match) => match[1] as string)
        .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target)),
    );
    expect(targets.size).toBeGreaterThan(0);
    expect([...targets].filter((target) => !tarFiles.includes(`package/${target}`))).toEqual([]);
  });
});

/** The repository's TypeScript compiler, as a consumer project would run its own. */
const TSC = join(repo, 'node_modules/typescript/bin/tsc');

/**
 * Writes `files` into the consumer and type-checks them (strict, the package's declarations
 * checked too) with `options`. Returns the compiler's output: '' when they check.
 */
function typeCheck(name: string, files: Record<string, string>, options: Record<string, unknown>): string {
  for (const [file, text] of Object.entries(files)) writeFileSync(join(consumer, file), text);
  const config = join(consumer, `tsconfig.${name}.json`);
  const compilerOptions = {
    target: 'ES2022',
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    types: ['node'],
  };
  writeFileSync(
    config,
    JSON.stringify({ compilerOptions: { ...compilerOptions, ...options }, files: Object.keys(files) }),
  );
  try {
    execFileSync(process.execPath, [TSC, '-p', config], { cwd: consumer, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (error) {
    return String((error as { stdout?: unknown }).stdout ?? error);
  }
}

/** Runs `file` (written into the consumer) with node; its output, stdout and stderr. */
function runNode(file: string, text: string): { ok: boolean; output: string } {
  writeFileSync(join(consumer, file), text);
  try {
    return {
      ok: true,
      output: execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8', stdio: 'pipe' }),
    };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: unknown; stderr?: unknown };
    return { ok: false, output: `${String(stdout)}${String(stderr)}` };
  }
}

const NODE_NEXT = { module: 'NodeNext', moduleResolution: 'NodeNext' };
const USES_API = `const storage: StorageInterface = createStorage('file', { baseDir: './unused' });
void storage;
void StorageFactory;
`;

/** A backend author's imports from the subpath, its types and helpers used. */
const USES_BACKEND = `import { collapseMemoryWrites, KeyedMutex, type MemoryWrite } from 'connectome-storage/backend';
const writes: MemoryWrite[] = collapseMemoryWrites([]);
void writes;
void new KeyedMutex();
`;

/** One compiler run for the checks below (it reads every declaration, so it is the slow part). */
let formatsOutput: string | undefined;
function checkFormats(): string {
  const imports =
    "import { createStorage, StorageFactory, type StorageInterface } from 'connectome-storage';\n";
  formatsOutput ??= typeCheck(
    'formats',
    {
      'esm.mts': imports + USES_API + USES_BACKEND,
      'cjs.cts': imports + USES_API + USES_BACKEND,
      'default-import.mts': "import lib from 'connectome-storage';\nvoid lib;\n",
    },
    NODE_NEXT,
  );
  return formatsOutput;
}

describe('type declarations per module format', () => {
  it('type-check an ES module (.mts) and a CommonJS (.cts) consumer under NodeNext', () => {
    const errors = checkFormats()
      .split('\n')
      .filter((line) => /error TS/.test(line) && !line.startsWith('default-import.mts'));
    expect(errors).toEqual([]);
  }, 300_000);

  it('refuse an ES module default import, which the ES module build does not have at run time', () => {
    const run = runNode('default-import.mjs', "import lib from 'connectome-storage';\nvoid lib;\n");
    expect(run.output).toMatch(/does not provide an export named 'default'/);
    expect(checkFormats()).toMatch(/default-import\.mts.*has no default export/);
  }, 300_000);
});

describe('one module instance for import and require', () => {
  it('lets an ES module app use a backend that a CommonJS plugin registered, and register its class', () => {
    writeFileSync(
      join(consumer, 'plugin.cjs'),
      `const { StorageFactory, StorageInterface } = require('connectome-storage');
class PluginStorage extends StorageInterface {}
StorageFactory.registerBackend('plugin', PluginStorage, 'A plugin');
module.exports = { PluginStorage };
`,
    );
    const run = runNode(
      'plugin-app.mjs',
      `import { createRequire } from 'node:module';
import { ConfigError, createStorage, getAvailableBackends, StorageFactory, StorageInterface } from 'connectome-storage';
import { PluginStorage } from './plugin.cjs';
const required = createRequire(import.meta.url)('connectome-storage');
const result = { listed: getAvailableBackends().plugin ?? null, sameClasses: required.StorageInterface === StorageInterface };
try {
  result.created = createStorage('plugin') instanceof PluginStorage;
} catch (error) {
  result.created = error.message;
}
try {
  StorageFactory.registerBackend('plugin-again', PluginStorage);
  result.registered = true;
} catch (error) {
  result.registered = error.message;
}
try {
  required.createStorage('no-such-backend');
} catch (error) {
  result.errorIsConfigError = error instanceof ConfigError;
}
console.log(JSON.stringify(result));
`,
    );
    expect(run.ok).toBe(true);
    expect(JSON.parse(run.output)).toEqual({
      listed: 'A plugin',
      sameClasses: true,
      created: true,
      registered: true,
      errorIsConfigError: true,
    });
  });
});

describe('connectome-storage/backend', () => {
  it("shares the root's module instance, imported or required", () => {
    const run = runNode(
      'backend-app.mjs',
      `import { createRequire } from 'node:module';
import { StorageInterface } from 'connectome-storage';
import * as imported from 'connectome-storage/backend';
const required = createRequire(import.meta.url)('connectome-storage/backend');
const root = createRequire(import.meta.url)('connectome-storage');
// The semantic hooks' lock is a KeyedMutex of the one instance the subpath exports.
class Probe extends StorageInterface {
  locks() { return this.ownerLocks; }
}
console.log(JSON.stringify({
  names: Object.keys(imported).sort().join() === Object.keys(required).filter((n) => n !== '__esModule').sort().join(),
  sameHelper: imported.collapseMemoryWrites === required.collapseMemoryWrites,
  sameClass: imported.KeyedMutex === required.KeyedMutex,
  coreUsesIt: new Probe().locks() instanceof imported.KeyedMutex,
  rootIsOne: root.StorageInterface === StorageInterface,
  notInRoot: 'KeyedMutex' in root || 'checkBatch' in root,
}));
`,
    );
    expect(run.output).toBe(
      JSON.stringify({
        names: true,
        sameHelper: true,
        sameClass: true,
        coreUsesIt: true,
        rootIsOne: true,
        notInRoot: false,
      }) + '\n',
    );
  });
});

describe('driver availability', () => {
  it('resolves drivers from where the package is, when an app reaches it through a symlink (pnpm)', () => {
    elsewhere = mkdtempSync(join(tmpdir(), 'connectome-symlinked-'));
    mkdirSync(join(elsewhere, 'node_modules'));
    symlinkSync(
      join(consumer, 'node_modules/connectome-storage'),
      join(elsewhere, 'node_modules/connectome-storage'),
      'dir',
    );
    const print = 'console.log(JSON.stringify(getAvailableBackends()));\n';
    for (const [file, head] of [
      ['app.mjs', "import { getAvailableBackends } from 'connectome-storage';\n"],
      ['app.cjs', "const { getAvailableBackends } = require('connectome-storage');\n"],
    ] as const) {
      writeFileSync(join(elsewhere, file), head + print);
      const output = execFileSync(process.execPath, [file], { cwd: elsewhere, encoding: 'utf8' });
      const backends = JSON.parse(output) as Record<string, string>;
      for (const name of ['sqlite', 'redis', 'postgres'])
        expect(`${file}: ${backends[name]}`).not.toContain('unavailable');
    }
  });
});

describe('declarations for CommonJS TypeScript without esModuleInterop', () => {
  it('type-check (no default imports of Node modules in the published declarations)', () => {
    const output = typeCheck(
      'node10',
      {
        'node10.ts':
          "import { createStorage, FileStorage } from 'connectome-storage';\nvoid createStorage;\nvoid FileStorage;\n" +
          "import { KeyedMutex } from 'connectome-storage/backend';\nvoid KeyedMutex;\n",
      },
      { module: 'CommonJS', moduleResolution: 'Node10', esModuleInterop: false },
    );
    // Only this package's declarations and the consumer (the subpath found through
    // typesVersions, as Node10 reads no `exports`): zod's own need esModuleInterop (not ours to fix).
    const ours = output
      .split('\n')
      .filter((line) => line.startsWith('node_modules/connectome-storage/') || line.startsWith('node10.ts'));
    expect(ours).toEqual([]);
  }, 300_000);
});
