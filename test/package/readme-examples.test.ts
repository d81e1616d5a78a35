/**
 * The README's TypeScript examples work as a user copies them: every ```ts block type-checks
 * (strict) against the public API, imported as `connectome-storage` (mapped to `src/index.ts`,
 * the sources of the package root), all blocks in one compiler program; and the
 * examples on embedded stores (file, SQLite, sqlite-vec) run, in a temp dir, without throwing.
 * A snippet (a block without an import) continues the quick start: it is checked with a
 * `storage` in scope and run against a file store. A fragment is type-checked too, except for
 * what it leaves out on purpose (names it does not declare, abstract members it does not
 * implement), and never run. See `readme.ts` for the block kinds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import * as library from '../../src/index.js';
import { REPO, readmeText, type ReadmeBlock, tsBlocks } from './readme.js';

const blocks = tsBlocks(readmeText());
/** What a snippet is checked with: the store the quick start opened. */
const SNIPPET_PRELUDE =
  "import type { StorageInterface } from 'connectome-storage';\ndeclare const storage: StorageInterface;\n";

/**
 * What a fragment may leave out: `Cannot find name` (2304, 2552 with a suggestion) and a class's
 * unimplemented abstract members (2515, 2654, 2655, 2656). Any other error counts.
 */
const LEFT_OUT = new Set([2304, 2552, 2515, 2654, 2655, 2656]);

/** The virtual file a block is checked as; its lines start after the prelude. */
function blockFile(block: ReadmeBlock): { name: string; text: string; offset: number } {
  const prelude = block.kind === 'snippet' ? SNIPPET_PRELUDE : '';
  // `export {}` makes every block a module of its own (top-level await, no clashing names).
  return {
    name: resolve(REPO, `readme-examples/line-${block.line}.ts`),
    text: `${prelude}${block.code}export {};\n`,
    offset: prelude.split('\n').length - 1,
  };
}

/** Compiler errors of every checked block, as `README.md:<line>: <message>`. */
function typeErrors(checked: readonly ReadmeBlock[]): string[] {
  const files = new Map(checked.map((block) => [blockFile(block).name, { block, ...blockFile(block) }]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // A Node user's setup: ES2022 and @types/node (no DOM); strict, as the README's `v!` assume.
    lib: ['lib.es2022.d.ts'],
    strict: true,
    noUncheckedIndexedAccess: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    baseUrl: REPO,
    paths: { 'connectome-storage': ['src/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => {
    const file = files.get(resolve(name));
    return file ? ts.createSourceFile(name, file.text, version, true) : getSourceFile(name, version, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(resolve(name)) || fileExists(name);
  const program = ts.createProgram([...files.keys()], options, host);
  const errors: string[] = [];
  for (const [name, file] of files) {
    const source = program.getSourceFile(name);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    for (const diagnostic of diagnostics) {
      if (file.block.kind === 'fragment' && LEFT_OUT.has(diagnostic.code)) continue;
      const at = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line ?? 0;
      const line = file.block.line + 1 + at - file.offset;
      errors.push(`README.md:${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    }
  }
  return errors;
}

describe('README TypeScript examples', () => {
  it('has examples of each kind, fragments rare', () => {
    expect(blocks.filter((block) => block.kind === 'program').length).toBeGreaterThanOrEqual(3);
    expect(blocks.filter((block) => block.kind === 'snippet').length).toBeGreaterThanOrEqual(3);
    expect(blocks.filter((block) => block.kind === 'fragment').length).toBeLessThanOrEqual(3);
  });

  it('type-check against the public API (strict)', () => {
    expect(typeErrors(blocks)).toEqual([]);
  }, 60_000);
});

/** A block that needs a server or a service (Redis, PostgreSQL, an HTTP embedder) is only type-checked. */
const NEEDS_SERVICE = /'(?:redis|postgres|openai|ollama)'/;

/**
 * Runs `block` with `storage` in scope and `connectome-storage` resolving to the sources; its
 * relative paths (`'./storage_data'`) are rewritten into `dir`, and what it prints is dropped.
 */
async function run(block: ReadmeBlock, dir: string, storage: library.StorageInterface): Promise<void> {
  const code = block.code.replace(/'\.\/([^']*)'/g, (_whole, path: string) =>
    JSON.stringify(join(dir, path)),
  );
  const { outputText } = ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS },
  });
  const requireFromBlock = (name: string): unknown => {
    if (name !== 'connectome-storage') throw new Error(`README.md:${block.line} requires ${name}`);
    return library;
  };
  const silent = {
    log: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  // The block's top-level awaits run in an async function's body.
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
    ...parameters: string[]
  ) => (...args: unknown[]) => Promise<void>;
  const parameters = ['require', 'exports', 'console', ...(block.kind === 'snippet' ? ['storage'] : [])];
  await new AsyncFunction(...parameters, outputText)(requireFromBlock, {}, silent, storage);
}

describe('README examples on embedded stores run', () => {
  let dir = '';
  let storage: library.StorageInterface;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'connectome-readme-'));
    storage = library.createStorage('file', { baseDir: join(dir, 'snippets') });
    await storage.initialize();
    // What the quick start stored, which the snippets go on with.
    await storage.storeConversation('conv_001', { title: 'Hello', messages: [] });
    await storage.storeMemory('conv_001', 'mem_000', { summary: 'greeting' });
  });

  afterAll(async () => {
    await storage?.shutdown();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  // Comments may name services (`// or 'openai'`): only the code decides.
  const runnable = blocks.filter(
    (block) => block.kind !== 'fragment' && !NEEDS_SERVICE.test(block.code.replace(/\/\/.*$/gm, '')),
  );

  it('includes the quick start and the semantic search examples', () => {
    expect(runnable.filter((block) => block.kind === 'program').length).toBeGreaterThanOrEqual(3);
  });

  it.each(runnable.map((block) => [`${block.kind} at README.md:${block.line}`, block] as const))(
    '%s',
    async (_name, block) => {
      await run(block, join(dir, `line-${block.line}`), storage);
    },
  );
});
