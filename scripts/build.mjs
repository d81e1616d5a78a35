// Builds dist/esm (ES modules) and dist/cjs (CommonJS) with tsc, each with its own declarations:
// a .d.ts file is read in the module format of the folder it sits in, so the ES module build's
// declarations must live under dist/esm (type: module) and the CommonJS ones under dist/cjs.
// One set for both would describe one of them wrongly (e.g. a default export ES module
// consumers do not get).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const tsc = (args) =>
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', ...args], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
tsc(['--module', 'ES2022', '--moduleResolution', 'Bundler', '--outDir', 'dist/esm']);
tsc(['--module', 'CommonJS', '--moduleResolution', 'Node10', '--outDir', 'dist/cjs']);
// Each output folder says which module system its .js and .d.ts files use.
mkdirSync('dist/esm', { recursive: true });
writeFileSync('dist/esm/package.json', JSON.stringify({ type: 'module' }) + '\n');
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
