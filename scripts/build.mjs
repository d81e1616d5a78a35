// Builds dist/esm (ES modules), dist/cjs (CommonJS) and dist/types (declarations) with tsc.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const tsc = (args) =>
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', ...args], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
tsc([
  '--module',
  'ES2022',
  '--moduleResolution',
  'Bundler',
  '--outDir',
  'dist/esm',
  '--declaration',
  'false',
]);
tsc([
  '--module',
  'CommonJS',
  '--moduleResolution',
  'Node10',
  '--outDir',
  'dist/cjs',
  '--declaration',
  'false',
]);
tsc(['--emitDeclarationOnly', '--outDir', 'dist/types']);
// Each output folder says which module system its .js files use.
mkdirSync('dist/esm', { recursive: true });
writeFileSync('dist/esm/package.json', JSON.stringify({ type: 'module' }) + '\n');
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
