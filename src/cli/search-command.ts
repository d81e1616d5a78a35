/** `search`: full-text search of a store from the command line (opened read-only). */
import { CorruptDataError, ValidationError } from '../core/errors.js';
import type { StorageLogger } from '../core/logger.js';
import {
  SEARCH_KINDS,
  type SearchHit,
  type SearchKind,
  type SearchMode,
  type SearchQuery,
} from '../core/search/index.js';
import { type CliIO, type StoreCommandOptions, withStore } from './commands.js';
import { printable } from './format.js';
import { CliError, errorText, EXIT, redactOutput } from './open.js';

/** Options of `search`, as commander parses them. */
export interface SearchCommandOptions extends StoreCommandOptions {
  kind?: string[];
  agent?: string;
  conversation?: string;
  limit?: number;
  all?: boolean;
  mode?: string;
  skipUnreadable?: boolean;
}

const MODES: readonly SearchMode[] = ['text', 'vector', 'hybrid'];

/** The ids of a hit as one short string, e.g. `memories conv_1/mem_2`. */
export function describeHit(hit: SearchHit): string {
  switch (hit.kind) {
    case 'raw_messages':
      return `raw_messages ${hit.conversationId}#${hit.messageIndex}`;
    case 'memories':
      return `memories ${hit.conversationId}/${hit.memoryId}`;
    case 'reasoning_chains':
      return `reasoning_chains ${hit.agentId}#${hit.chainIndex}`;
    default:
      return `${hit.kind} ${hit.conversationId}`;
  }
}

/**
 * `search [spec] <words>`: prints the hits, best first (score, kind and ids, snippet), or
 * with `--json` the hits themselves. A bad query exits 2.
 */
export async function searchCommand(
  first: string,
  second: string | undefined,
  options: SearchCommandOptions,
  io: CliIO,
): Promise<number> {
  // `search SPEC WORDS`, or `search --env FILE WORDS`: without --env, one argument is the
  // store and the words are missing.
  if (second === undefined && options.env === undefined) {
    throw new CliError(
      'Missing the words to find: search <backend spec> "words" (or search --env <file> "words")',
      EXIT.usage,
    );
  }
  // With --env both arguments read as words: `search --env f cafe latte` told the user to
  // give "either <backend spec> or --env", as if `cafe` were a store.
  if (second !== undefined && options.env !== undefined) {
    throw new CliError(
      `With --env the store comes from the file: give the words as one argument, quoted: search --env <file> "${first} ${second}"`,
      EXIT.usage,
    );
  }
  const [spec, words] = second === undefined ? [undefined, first] : [first, second];
  const kinds = options.kind?.map((kind) => {
    if (!(SEARCH_KINDS as readonly string[]).includes(kind)) {
      throw new CliError(
        `--kind ${JSON.stringify(kind)}: must be one of ${SEARCH_KINDS.join(', ')}`,
        EXIT.usage,
      );
    }
    return kind as SearchKind;
  });
  const { mode } = options;
  if (mode !== undefined && !(MODES as readonly string[]).includes(mode)) {
    throw new CliError(`--mode ${JSON.stringify(mode)}: must be one of ${MODES.join(', ')}`, EXIT.usage);
  }
  const query: SearchQuery = {
    text: words,
    match: options.all === true ? 'all' : 'any',
    ...(kinds === undefined ? {} : { kinds }),
    ...(options.agent === undefined ? {} : { agentId: options.agent }),
    ...(options.conversation === undefined ? {} : { conversationId: options.conversation }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(mode === undefined ? {} : { mode: mode as SearchMode }),
    ...(options.skipUnreadable === true && { unreadable: 'skip' as const }),
  };
  // With --skip-unreadable, each record left out is named on stderr (the store's warn events).
  const logger: StorageLogger | undefined =
    options.skipUnreadable === true
      ? { warn: (message) => void io.stderr.write(`warning: ${printable(redactOutput(message))}\n`) }
      : undefined;
  return withStore(spec, options, { readOnly: true, logger }, async (store, parsed) => {
    let hits: SearchHit[];
    try {
      hits = await store.search(query);
    } catch (error) {
      if (error instanceof CorruptDataError && options.skipUnreadable !== true) {
        throw new CliError(
          `${errorText(error)}; --skip-unreadable leaves records that do not parse out of the hits`,
          EXIT.usage,
        );
      }
      if (error instanceof ValidationError && error.field === 'mode') {
        throw new CliError(
          `${error.message}; give the store with --env FILE setting CONNECTOME_SEMANTIC=1 (and CONNECTOME_VECTOR_*, CONNECTOME_EMBEDDER_*)`,
          EXIT.usage,
        );
      }
      if (error instanceof ValidationError) throw new CliError(error.message, EXIT.usage);
      throw error;
    }
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ store: parsed.display, hits: redactOutput(hits) }, null, 2)}\n`);
    } else if (hits.length === 0) {
      // The words as typed may hold a URL with a password (hits are redacted below too).
      io.stdout.write(
        `No records in ${parsed.display} match ${printable(redactOutput(JSON.stringify(words)))}.\n`,
      );
    } else {
      // Stored text may hold URLs with passwords and terminal escape sequences.
      for (const hit of hits) {
        const line = `${hit.score.toFixed(3)}  ${describeHit(hit)}  ${hit.snippet}`;
        io.stdout.write(`${printable(redactOutput(line))}\n`);
      }
    }
    return EXIT.ok;
  });
}
