/**
 * The `connectome-storage` command line:
 *
 * ```
 * connectome-storage migrate --from SPEC|--from-env FILE --to SPEC|--to-env FILE
 *                            [--dry-run] [--no-verify] [--merge] [--upgrade-source] [--json] [--concurrency N]
 *                            [--batch-size N] [--check-source]
 * connectome-storage health SPEC|--env FILE [--json]
 * connectome-storage stats SPEC|--env FILE [--json]
 * connectome-storage purge-cache SPEC|--env FILE [--json]
 * connectome-storage list LISTING SPEC|--env FILE [--after CURSOR] [--limit N] [--json]
 * connectome-storage search SPEC|--env FILE "words" [--kind K]... [--agent ID] [--conversation ID]
 *                           [--limit N] [--all] [--mode text|vector|hybrid] [--skip-unreadable] [--json]
 * connectome-storage backends [--json]
 * connectome-storage --version | -V
 * connectome-storage help [command]
 * ```
 * SPEC: see `backend-spec.ts`. Exit codes: see `EXIT` in `open.ts` and {@link EXIT_HELP}.
 */
import { Argument, Command, CommanderError, InvalidArgumentError } from 'commander';
import {
  backendsCommand,
  type CliIO,
  healthCommand,
  type MigrateCommandOptions,
  migrateCommand,
  purgeCacheCommand,
  runCommand,
  statsCommand,
  type StoreCommandOptions,
  writeJsonError,
} from './commands.js';
import { redactUrlsInText } from '../core/redact.js';
import { CLI_LISTINGS, listCommand, type ListCommandOptions } from './list-command.js';
import { EXIT, storesLeftClosing } from './open.js';
import { packageVersion } from './version.js';
import { searchCommand, type SearchCommandOptions } from './search-command.js';

const SPEC_HELP = `Backend specs:
  file:./storage_data            file backend folder (file:///abs/path works too)
  sqlite:./connectome.db         SQLite database file (sqlite::memory: for a throwaway one)
  redis://[:pass@]host:6379/0?prefix=connectome:
  postgres://user:pass@host:5432/db?schema=connectome   PostgreSQL database and schema
  Options as a query: file:./data?createBackups=false, sqlite:./x.db?enableWalMode=false
  URL passwords are never printed.`;

/** The exit codes (`EXIT` in `open.ts`), as `--help` lists them. */
const EXIT_HELP = `Exit codes:
  0    done (migrated and verified; healthy)
  1    differences or conflicts (fix them and run the same command again), or not healthy
  2    refused or failed before writing: bad usage or spec, unknown backend, unreachable or
       missing store, source and target the same store, read-only or non-empty target (without
       --merge); a failed dry run, stats, list or search, or migration before its first write
  3    failed after writing started (run the same command again to resume), or stopped
       without finishing (its store left a call pending)
  130  interrupted (run the same command again to resume)`;

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return number;
}

function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw new InvalidArgumentError('must be a non-negative integer');
  }
  return number;
}

/**
 * An option's parser that refuses the option given twice (commander keeps the last: `--to A
 * --to B` would copy into B without a word), then parses it with `parse`.
 */
function once<T = string>(parse?: (value: string) => T): (value: string, previous: unknown) => T {
  return (value, previous) => {
    if (previous !== undefined) throw new InvalidArgumentError('the option is given twice; give it once');
    return parse === undefined ? (value as T) : parse(value);
  };
}

/** Writes a usage error commander reports: it may echo an argument, and with it a URL's password. */
function writeRedacted(text: string, write: (text: string) => void): void {
  write(redactUrlsInText(text));
}

/**
 * Said after an unknown option of `search`: a word like "-draft" reads as one. Other usage
 * errors of `search` (`--limit 0`) do not need it; until 2026-12-06 it followed them all.
 */
const SEARCH_DASH_HINT =
  "(words that start with - go after --, options before it: search <spec> --all -- '-draft notes')";

/**
 * Whether `argv` asks for JSON output: `--json` before any `--` (after it, a word). Read from
 * the arguments, not the parsed options, since a usage error can end the parse before commander
 * reaches `--json`.
 */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function buildProgram(io: CliIO, setExitCode: (code: number) => void): Command {
  const program = new Command('connectome-storage')
    .description(
      'Migrate, check and maintain connectome-storage stores (file, SQLite, Redis, PostgreSQL, or any registered backend).',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Help is left as is.
      outputError: writeRedacted,
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${SPEC_HELP}\n\n${EXIT_HELP}`);
  const run = (json: boolean | undefined, command: () => Promise<number>) =>
    runCommand(io, json, command).then(setExitCode);

  program
    .command('migrate')
    .description('Copy every record from one store to another, then verify the copy')
    .option('--from <spec>', 'source store', once())
    .option('--from-env <file>', 'source store from an env file (CONNECTOME_STORAGE_* variables)', once())
    .option('--to <spec>', 'target store', once())
    .option('--to-env <file>', 'target store from an env file', once())
    .option('--dry-run', 'count what would be copied; write nothing, do not open the target')
    .option('--no-verify', 'skip the record-by-record comparison afterwards')
    .option('--merge', 'allow a non-empty target (source records overwrite same ids/keys)')
    .option(
      '--check-source',
      'read the whole source first; if any of it does not parse, name all of it and write nothing',
    )
    .option(
      '--upgrade-source',
      'open the source writable, so a source in an older format is upgraded in place first',
    )
    .option('--json', 'print only a JSON summary on stdout, no progress')
    .option(
      '--concurrency <n>',
      "groups of conversations/agents/keys copied at once (default 4; conversation groups: the target's, 2 into Redis and PostgreSQL)",
      once(positiveInteger),
    )
    .option(
      '--batch-size <n>',
      "conversations per batch write, 0: one conversation at a time (default: the target's, 32 into Redis, else 64)",
      once(nonNegativeInteger),
    )
    .addHelpText('after', `\n${SPEC_HELP}\n\nRe-running an interrupted migration resumes it.\n\n${EXIT_HELP}`)
    .action((options: MigrateCommandOptions) => run(options.json, () => migrateCommand(options, io)));

  const storeCommand = (
    name: string,
    description: string,
    action: (spec: string | undefined, options: StoreCommandOptions, io: CliIO) => Promise<number>,
  ) =>
    program
      .command(name)
      .description(description)
      .argument('[spec]', 'the store (see backend specs)')
      .option('--env <file>', 'the store from an env file (CONNECTOME_STORAGE_* variables)', once())
      .option('--json', 'print JSON')
      .action((spec: string | undefined, options: StoreCommandOptions) =>
        run(options.json, () => action(spec, options, io)),
      );
  storeCommand(
    'health',
    "Check a store's health, read-only (exit 1 unless healthy, 2 if it does not exist or its configuration is refused)",
    healthCommand,
  );
  storeCommand('stats', 'Print the counts of everything a store holds (opened read-only)', statsCommand);
  storeCommand('purge-cache', 'Remove expired cache entries from a store', purgeCacheCommand);

  program
    .command('list')
    .description('Print one page of ids of a store (opened read-only), one JSON string per line')
    .addArgument(new Argument('<listing>', 'what to list').choices(Object.keys(CLI_LISTINGS)))
    .argument('[spec]', 'the store (see backend specs)')
    .option('--env <file>', 'the store from an env file (CONNECTOME_STORAGE_* variables)', once())
    .option('--after <cursor>', 'the cursor printed by the previous page (`more: --after ...`)', once())
    .option('--limit <n>', 'ids per page (at most 10000)', once(positiveInteger))
    .option('--json', 'print { store, listing, items, next }')
    .action((listing: string, spec: string | undefined, options: ListCommandOptions) =>
      run(options.json, () => listCommand(listing, spec, options, io)),
    );

  program
    .command('search')
    .description('Find records by their words (opened read-only); best first, matched words in «»')
    .argument('<spec-or-words>', 'the store (see backend specs), or the words when --env is given')
    .argument(
      '[words]',
      'the words to find (plain words; quotes, *, -, NEAR, ... are not syntax; words starting with - go after --)',
    )
    .option('--env <file>', 'the store from an env file (CONNECTOME_STORAGE_* variables)', once())
    // One kind per --kind, repeated for more: a variadic `<kind...>` took the words after it as
    // kinds too (`search <spec> --kind memories cafe` failed with "Missing the words").
    .option(
      '--kind <kind>',
      'raw_messages, memories, reasoning_chains, conversations, chunk_info (default: the first three); repeat it for several',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--agent <id>', 'only reasoning chains of this agent', once())
    .option('--conversation <id>', 'only records of this conversation', once())
    .option('--limit <n>', 'most hits (1 to 1000, default 10)', once(positiveInteger))
    .option('--all', 'only records holding every word (default: any word, ranked)')
    .option(
      '--mode <mode>',
      'text (default), vector or hybrid (vector and hybrid need --env with semantic search on)',
      once(),
    )
    .option(
      '--skip-unreadable',
      'leave out records that do not parse (each named on stderr) instead of failing the search',
    )
    .option('--json', 'print the hits as JSON')
    // A word like "-draft" reads as an option: say how to pass it (the usual `--`).
    .configureOutput({
      outputError: (text, write) => {
        writeRedacted(text, write);
        if (text.startsWith('error: unknown option')) write(`${SEARCH_DASH_HINT}\n`);
      },
    })
    .action((first: string, second: string | undefined, options: SearchCommandOptions) =>
      run(options.json, () => searchCommand(first, second, options, io)),
    );

  program
    .command('backends')
    .description('List the available backends')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => run(options.json, () => backendsCommand(options, io)));
  return program;
}

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  // commander answers `help <unknown>` with the program's help and exit 0; parsed as the
  // command itself it is the usual usage error (exit 2, with commander's "Did you mean").
  const [first, topic] = argv;
  const unknownTopic =
    first === 'help' && topic !== undefined && !program.commands.some((command) => command.name() === topic);
  try {
    await program.parseAsync(unknownTopic ? [topic] : [...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // `--help`, `help [command]` and `--version` end the parse with these codes: done, exit 0.
    const helpShown = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code);
    if (helpShown) return EXIT.ok;
    // A usage error commander found (a value an option's parser refused, an option given twice,
    // an unknown option or command): with --json it is the JSON error object too, as for the
    // usage errors the commands find (until 2026-12-06 stdout stayed empty).
    if (wantsJson(argv)) {
      writeJsonError(io, redactUrlsInText(error.message.replace(/^error: /, '')), EXIT.usage);
    }
    return EXIT.usage;
  }
  return exitCode;
}

/**
 * Lets `stream` be closed by its reader (`connectome-storage list ... | head -1`): the write
 * that finds the pipe closed (EPIPE), and any after it, are dropped instead of crashing the
 * process with an unhandled 'error' event. The command ends as it would have (its exit code).
 */
function toleratesClosedReader(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    throw error;
  });
}

/** Runs the CLI as a process entry: sets `process.exitCode` (an unexpected failure is exit 3). */
export function runMain(argv: readonly string[], name = 'connectome-storage'): void {
  toleratesClosedReader(process.stdout);
  toleratesClosedReader(process.stderr);
  // A command left pending with nothing more to wait for (a driver that dropped its callback:
  // pg's pool did for a port that is no number) let the process end silently with exit 0.
  let settled = false;
  process.once('beforeExit', () => {
    if (settled) return;
    process.stderr.write(`${name}: the command stopped without finishing: its store left a call pending\n`);
    process.exitCode = EXIT.error;
  });
  main(argv).then(
    (code) => {
      settled = true;
      process.exitCode = code;
      // Interrupted while a store was still opening: the command gave that store up to
      // INTERRUPTED_CLOSE_WAIT_MS to finish opening and close (`openStore`); a connection
      // attempt still going would keep the process alive until its timeout: exit now. The
      // stores that had opened are closed, and on Linux stdout and stderr write synchronously
      // (nothing is lost).
      // So too when a failed migration gave up closing a target that stopped answering
      // (`closeWithin`): the read it gave up on would keep the process until its timeout.
      if (code === EXIT.interrupted || storesLeftClosing()) process.exit(code);
    },
    (error: unknown) => {
      settled = true;
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`${name}: unexpected error: ${redactUrlsInText(detail)}\n`);
      process.exitCode = EXIT.error;
    },
  );
}
