// Checks the package as a user gets it: packs the package (`npm pack` builds it first),
// installs the tarball into a fresh temp project, type-checks a TypeScript consumer with
// `tsc --strict` and `skipLibCheck: false`, then runs an ES module, a CommonJS and the compiled
// TypeScript consumer (each stores and loads a record in a file store) and the installed `bin`.
//
// Kept cheap and offline-friendly: npm prefers its cache, install scripts are skipped (so the
// optional sqlite3 native build neither runs nor downloads anything; the consumers use the file
// backend), and the repository's own TypeScript compiles the consumer. `@types/node` is the only
// extra type package installed, as in any Node TypeScript project: a driver's types (`@types/pg`)
// must not be needed.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'connectome-consumers-'));
const project = join(work, 'consumer');

function run(command, args, cwd, options = {}) {
  console.log(`$ ${[command, ...args].join(' ')}`);
  return execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    ...options,
  });
}

/** The body every consumer runs: a file store in a temp dir, one record stored and loaded back. */
const roundTrip = (api) => `
const dir = mkdtempSync(join(tmpdir(), 'connectome-consumer-store-'));
try {
  const storage = ${api}.createFileStorage(dir);
  await storage.initialize();
  await storage.storeConversation('conv_1', { title: 'hello', n: 1 });
  const loaded = await storage.loadConversation('conv_1');
  await storage.shutdown();
  if (JSON.stringify(loaded) !== JSON.stringify({ title: 'hello', n: 1 })) {
    throw new Error('round trip returned ' + JSON.stringify(loaded));
  }
  if (!(storage instanceof ${api}.FileStorage)) throw new Error('createFileStorage did not return a FileStorage');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
`;

const consumers = {
  'esm.mjs': `import * as lib from 'connectome-storage';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
${roundTrip('lib')}
console.log('esm consumer: ok');
`,
  'cjs.cjs': `const lib = require('connectome-storage');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
(async () => {
${roundTrip('lib')}
console.log('cjs consumer: ok');
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`,
  // Uses the public types (config, records, errors), so a type that needs a missing package fails.
  'ts-consumer.mts': `import {
  createFileStorage,
  FileStorage,
  StorageError,
  type PostgresStorageConfig,
  type RedisStorageConfig,
  type StorageInterface,
} from 'connectome-storage';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const lib = { createFileStorage, FileStorage };
const file: FileStorage = createFileStorage('./unused');
const generic: StorageInterface = file;
const pg: PostgresStorageConfig = { url: 'postgres://127.0.0.1/db', schema: 'app' };
const redis: RedisStorageConfig = { keyPrefix: 'app:' };
void [generic, pg, redis, StorageError];
${roundTrip('lib')}
console.log('ts consumer: ok');
`,
  // The same package seen from a CommonJS TypeScript file (the "require" condition).
  'ts-consumer-cjs.cts': `import { createStorage, type StorageInterface } from 'connectome-storage';
const storage: StorageInterface = createStorage('file', { baseDir: './unused' });
void storage;
`,
};

/**
 * Every package the published declarations import must be a dependency that ships its own
 * types: a user gets the dependencies, never our dev dependencies such as `@types/pg`.
 */
function checkDeclarationImports(installed) {
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  const problems = [];
  // Each build has its own declarations (read in that build's module format).
  const declarations = ['dist/esm', 'dist/cjs'].flatMap((dir) =>
    readdirSync(join(installed, dir), { recursive: true })
      .map((file) => join(dir, String(file)))
      .filter((file) => file.endsWith('.d.ts')),
  );
  for (const file of declarations) {
    const text = readFileSync(join(installed, file), 'utf8');
    for (const [, specifier] of text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
      if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
      const name = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0];
      const dependency = join(project, 'node_modules', name, 'package.json');
      const own = existsSync(dependency) ? JSON.parse(readFileSync(dependency, 'utf8')) : undefined;
      const typed = own !== undefined && (own.types !== undefined || own.typings !== undefined);
      if (manifest.dependencies?.[name] === undefined || !typed)
        problems.push(`${file} imports '${specifier}'`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `declarations import packages that are not typed dependencies:\n  ${problems.join('\n  ')}`,
    );
  }
  console.log('declaration imports: ok');
}

try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], repo));
  const tarball = join(work, packed[0].filename);

  const typesNode = JSON.parse(
    readFileSync(join(repo, 'node_modules/@types/node/package.json'), 'utf8'),
  ).version;
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2) + '\n',
  );
  for (const [name, text] of Object.entries(consumers)) writeFileSync(join(project, name), text);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          types: ['node'],
          outDir: 'out',
        },
        files: ['ts-consumer.mts', 'ts-consumer-cjs.cts'],
      },
      null,
      2,
    ) + '\n',
  );
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      tarball,
      `@types/node@${typesNode}`,
    ],
    project,
    { stdio: 'inherit' },
  );
  // The check means something only if the driver types it must not need are really absent.
  if (existsSync(join(project, 'node_modules/@types/pg')))
    throw new Error('@types/pg got installed into the consumer');
  checkDeclarationImports(join(project, 'node_modules/connectome-storage'));

  run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], project, {
    stdio: 'inherit',
  });
  for (const entry of ['esm.mjs', 'cjs.cjs', 'out/ts-consumer.mjs']) {
    const out = run(process.execPath, [entry], project);
    process.stdout.write(out);
    if (!/consumer: ok/.test(out)) throw new Error(`${entry} did not finish`);
  }
  const backends = run('npx', ['--no-install', 'connectome-storage', 'backends', '--json'], project);
  const names = Object.keys(JSON.parse(backends));
  for (const name of ['file', 'sqlite', 'redis', 'postgres']) {
    if (!names.includes(name))
      throw new Error(`installed bin lists backends ${names.join(', ')}, not ${name}`);
  }
  console.log(`bin: ok (${names.join(', ')})`);
  console.log('consumers: all ok');
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
