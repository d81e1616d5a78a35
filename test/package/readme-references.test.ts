/**
 * What the README names exists: the `connectome-storage` subcommands and flags it shows (asked
 * of the real program through its `--help`), the environment variables (against those the
 * sources read, found in their syntax tree, both ways), the config keys of each backend (its
 * schema's, both ways) and their defaults, and the error classes (exported by the package).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { FILE_CONFIG_KEYS, parseFileStorageConfig } from '../../src/backends/file/config.js';
import { parsePostgresConfig, POSTGRES_CONFIG_KEYS } from '../../src/backends/postgres/config.js';
import { parseRedisConfig, REDIS_CONFIG_KEYS } from '../../src/backends/redis/config.js';
import { parseSqliteConfig, SQLITE_CONFIG_KEYS } from '../../src/backends/sqlite/config.js';
import * as library from '../../src/index.js';
import type { StorageInterface } from '../../src/index.js';
import { cli } from '../cli/run-cli.js';
import {
  anchorLinks,
  commandMentions,
  configKeys,
  errorMentions,
  flagMentions,
  headingAnchors,
  REPO,
  readmeText,
  section,
  variableMentions,
} from './readme.js';

const readme = readmeText();

/** A CLI's help, parsed: its commands (top level) or options, and any argument choices. */
interface Help {
  commands: string[];
  options: string[];
  choices: string[];
}

async function help(...command: string[]): Promise<Help> {
  const { code, stdout } = await cli(...command, '--help');
  expect(code).toBe(0);
  const section = (title: string) => stdout.split(`\n${title}:\n`)[1]?.split('\n\n')[0]?.split('\n') ?? [];
  return {
    commands: section('Commands').flatMap((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1] ?? []),
    options: section('Options').flatMap((line) => /^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/.exec(line)?.[1] ?? []),
    choices: [
      ...(/choices: ([^)]*)\)/.exec(stdout.replace(/\s+/g, ' '))?.[1] ?? '').matchAll(/"([^"]+)"/g),
    ].map((match) => match[1] ?? ''),
  };
}

/** Flags the README gives to other programs, not to `connectome-storage`, and why. */
const OTHER_PROGRAMS: Readonly<Record<string, string>> = {
  '--max-semi-space-size': 'a Node.js option (the migration memory measurement)',
  '--strict': 'a tsc option (the consumer check)',
  '--no-allow-scripts-pin': 'an npm option (approving the sqlite3 install script)',
  '--ignore-scripts': 'an npm option (an install that skips the sqlite3 build)',
  '--cluster': 'a redis-cli option (settling a slot an aborted reshard left migrating)',
  '--name': "a PostgreSQL server option's form inside a URL's ?options= (--name=value)",
};

describe('README: the CLI', () => {
  let program: Help;
  const commands = new Map<string, Help>();

  beforeAll(async () => {
    program = await help();
    for (const command of program.commands) commands.set(command, await help(command));
  });

  it('has the subcommands and flags its command lines show', () => {
    const mentions = commandMentions(readme);
    expect(mentions.length).toBeGreaterThan(10);
    const wrong = mentions.flatMap(({ line, command, flags }) => {
      const known = command === undefined ? program : commands.get(command);
      if (known === undefined) return [`README.md:${line}: no subcommand ${command}`];
      return flags
        .filter((flag) => !known.options.includes(flag) && !program.options.includes(flag))
        .map((flag) => `README.md:${line}: ${command ?? 'connectome-storage'} has no ${flag}`);
    });
    expect(wrong).toEqual([]);
  });

  it('has every --flag the README mentions, unless it belongs to another program', () => {
    const all = new Set([
      ...program.options,
      ...[...commands.values()].flatMap((command) => command.options),
    ]);
    const wrong = [...flagMentions(readme)]
      .filter(([flag]) => !all.has(flag) && !Object.hasOwn(OTHER_PROGRAMS, flag))
      .map(([flag, line]) => `README.md:${line}: ${flag}`);
    expect(wrong).toEqual([]);
  });

  it('is documented: each subcommand, with each of its options on its command lines', () => {
    const mentions = commandMentions(readme);
    const missing = [...commands].flatMap(([name, command]) => {
      const shown = mentions.filter((mention) => mention.command === name);
      if (shown.length === 0) return [`connectome-storage ${name}`];
      const flags = new Set(shown.flatMap((mention) => mention.flags));
      // The program's own options (--help, --version) show in every command's help.
      return command.options
        .filter((flag) => !program.options.includes(flag) && !flags.has(flag))
        .map((flag) => `${name} ${flag}`);
    });
    expect(missing).toEqual([]);
  });

  it('lists the listings `list` takes', () => {
    const shown = /connectome-storage list <([a-z|-]+)>/.exec(readme)?.[1]?.split('|');
    expect(shown).toEqual(commands.get('list')?.choices);
  });
});

/** Every `.ts` file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The `CONNECTOME_*` names the code under `dir` reads: as string literals, property names and
 * object keys (`env.CONNECTOME_X`, `{ CONNECTOME_X: ... }`). Comments and messages are not code.
 */
function variablesRead(dir: string): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    const text = ts.isStringLiteralLike(node) || ts.isIdentifier(node) ? node.text : undefined;
    if (text !== undefined && /^CONNECTOME_[A-Z0-9_]*[A-Z0-9]$/.test(text)) names.add(text);
    ts.forEachChild(node, visit);
  };
  for (const path of sources(dir)) {
    visit(ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true));
  }
  return names;
}

describe('README: environment variables', () => {
  const library = variablesRead(join(REPO, 'src'));
  const mentioned = variableMentions(readme);

  it('finds the variables on both sides', () => {
    expect(library.size).toBeGreaterThan(20);
    expect(mentioned.size).toBeGreaterThan(20);
  });

  it('names only variables the code reads (the library, or the tooling in scripts/ and bench/)', () => {
    const tooling = new Set([...variablesRead(join(REPO, 'scripts')), ...variablesRead(join(REPO, 'bench'))]);
    const unknown = [...mentioned]
      .filter(([name]) => !library.has(name) && !tooling.has(name))
      .map(([name, line]) => `README.md:${line}: ${name}`);
    expect(unknown).toEqual([]);
  });

  it('documents every variable the library reads', () => {
    expect([...library].filter((name) => !mentioned.has(name)).sort()).toEqual([]);
  });
});

/** Each built-in backend: its schema's keys and its config with every default filled in. */
const BACKENDS: Readonly<Record<string, { keys: readonly string[]; defaults: object }>> = {
  file: { keys: FILE_CONFIG_KEYS, defaults: parseFileStorageConfig({}) },
  sqlite: { keys: SQLITE_CONFIG_KEYS, defaults: parseSqliteConfig({}) },
  redis: { keys: REDIS_CONFIG_KEYS, defaults: parseRedisConfig({}) },
  postgres: { keys: POSTGRES_CONFIG_KEYS, defaults: parsePostgresConfig({}) },
};

describe('README: config keys', () => {
  const documented = configKeys(readme);
  const per = (backend: string) =>
    new Map([...(documented.get('all') ?? []), ...(documented.get(backend) ?? [])]);

  it('are, per backend, the keys its config schema takes', () => {
    const shown = Object.fromEntries(
      Object.keys(BACKENDS).map((backend) => [backend, [...per(backend).keys()].sort()]),
    );
    const taken = Object.fromEntries(
      Object.entries(BACKENDS).map(([backend, { keys }]) => [backend, [...keys].sort()]),
    );
    expect(shown).toEqual(taken);
  });

  it('have the defaults the backends fill in ("none": no value)', () => {
    let compared = 0;
    const wrong = Object.entries(BACKENDS).flatMap(([backend, { defaults }]) =>
      [...per(backend)].flatMap(([key, shown]) => {
        const actual: unknown = (defaults as Record<string, unknown>)[key];
        if (shown === undefined) return [];
        compared += 1;
        if (shown === null && (actual === undefined || actual === null)) return [];
        return actual === shown ? [] : [`${backend} ${key}: README ${String(shown)}, code ${String(actual)}`];
      }),
    );
    expect(wrong).toEqual([]);
    expect(compared).toBeGreaterThan(30);
  });
});

describe('README: error classes', () => {
  const exported = library as unknown as Readonly<Record<string, unknown>>;
  const isErrorClass = (value: unknown): boolean =>
    typeof value === 'function' && (value === Error || value.prototype instanceof Error);

  it('are exported by the package (or are JavaScript built-ins)', () => {
    const mentioned = errorMentions(readme);
    expect(mentioned.size).toBeGreaterThan(10);
    const unknown = [...mentioned]
      .filter(([name]) => !isErrorClass(exported[name]))
      .filter(([name]) => !isErrorClass((globalThis as unknown as Record<string, unknown>)[name]))
      .map(([name, line]) => `README.md:${line}: ${name}`);
    expect(unknown).toEqual([]);
  });

  it('are all documented: each error class the package exports', () => {
    const mentioned = errorMentions(readme);
    const undocumented = Object.keys(exported).filter(
      (name) => isErrorClass(exported[name]) && !mentioned.has(name),
    );
    expect(undocumented.sort()).toEqual([]);
  });
});

describe('README: links to a heading', () => {
  it('each name a heading of the README or of the file they point to', () => {
    const links = anchorLinks(readme);
    expect(links.length).toBeGreaterThan(30);
    const anchors = new Map<string, Set<string>>();
    const dead = links.flatMap(({ line, file, anchor }) => {
      const known =
        anchors.get(file) ?? headingAnchors(file === '' ? readme : readFileSync(join(REPO, file), 'utf8'));
      anchors.set(file, known);
      return known.has(anchor) ? [] : [`README.md:${line}: ${file}#${anchor}`];
    });
    expect(dead).toEqual([]);
  });
});

/**
 * Where the README documents each public member of a store: the API table, or the section named.
 * Typed by `keyof StorageInterface`, so a member added to (or removed from) the class fails to
 * compile until it is listed here, and the test then asks the README for it.
 */
const MEMBERS: Readonly<Record<Exclude<keyof StorageInterface, symbol>, string>> = {
  appendReasoningChains: 'API',
  close: 'API',
  deleteCacheEntries: 'API',
  deleteCacheEntry: 'API',
  deleteConversation: 'API',
  deleteMemories: 'API',
  deleteMemory: 'API',
  deleteReasoningChains: 'API',
  deleteSystemState: 'API',
  getStorageStats: 'API',
  healthCheck: 'API',
  initialize: 'API',
  isInitialized: 'API',
  isReadOnly: 'API',
  iterate: 'API',
  listAgents: 'API',
  listAllConversationIds: 'API',
  listCacheKeys: 'API',
  listConversations: 'API',
  listSystemStateKeys: 'API',
  loadCacheEntries: 'API',
  loadCacheEntry: 'API',
  loadCacheRecord: 'API',
  loadCacheRecords: 'API',
  loadChunkInfo: 'API',
  loadConversation: 'API',
  loadConversationBatch: 'API',
  loadMemories: 'API',
  loadRawMessages: 'API',
  loadReasoningChains: 'API',
  loadSequencedReasoningChains: 'API',
  loadSystemState: 'API',
  maxReasoningChainsPerAgent: 'API',
  purgeExpiredCache: 'API',
  reindex: 'API',
  search: 'API',
  shutdown: 'API',
  storeCacheEntries: 'API',
  storeCacheEntry: 'API',
  storeCacheRecord: 'API',
  storeCacheRecords: 'API',
  storeChunkInfo: 'API',
  storeConversation: 'API',
  storeConversationBatch: 'API',
  storeMemories: 'API',
  storeMemory: 'API',
  storeRawMessages: 'API',
  storeReasoningChain: 'API',
  storeSystemState: 'API',
  toJSON: 'API',
  trimReasoningChains: 'API',
  bulkCopyDefaults: 'Adding a backend',
  hasSemanticSearch: 'Semantic search',
  storageType: 'Adding a backend',
};

describe('README: the store API', () => {
  it('documents every public member of a store in its section', () => {
    const missing = Object.entries(MEMBERS).filter(([name, title]) => {
      // Named as code: `name(`, `name`, `storage.name`, or declared (`readonly name`).
      return !new RegExp(`(\`|\\.|readonly )${name}\\b`).test(section(readme, title));
    });
    expect(missing.map(([name, title]) => `${name} (in ## ${title})`)).toEqual([]);
  });
});
