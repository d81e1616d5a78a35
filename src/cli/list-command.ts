/** The CLI's `list` command: one page of a listing, with the cursor of the next page. */
import { ValidationError } from '../core/errors.js';
import type { ListingName, Page, PageOptions } from '../core/paging.js';
import type { StorageInterface } from '../core/storage-interface.js';
import type { CliIO, StoreCommandOptions } from './commands.js';
import { withStore } from './commands.js';
import { printable } from './format.js';
import { CliError, errorText, EXIT, redactOutput } from './open.js';

/** The listings as the command names them. */
export const CLI_LISTINGS: Record<string, ListingName> = {
  conversations: 'conversations',
  'all-conversations': 'allConversationIds',
  agents: 'agents',
  'cache-keys': 'cacheKeys',
  'state-keys': 'systemStateKeys',
};

/** Options of `list`, as commander parses them. */
export interface ListCommandOptions extends StoreCommandOptions {
  after?: string;
  limit?: number;
}

function listPage(
  store: StorageInterface,
  listing: ListingName,
  options: PageOptions,
): Promise<Page<string>> {
  switch (listing) {
    case 'conversations':
      return store.listConversations(options);
    case 'allConversationIds':
      return store.listAllConversationIds(options);
    case 'agents':
      return store.listAgents(options);
    case 'cacheKeys':
      return store.listCacheKeys(options);
    case 'systemStateKeys':
      return store.listSystemStateKeys(options);
  }
}

/**
 * `list <listing> [spec]`: prints one page of ids (opened read-only), one per line, and the
 * `--after` of the next page on stderr; `--json` prints `{ store, listing, items, next }`.
 */
export async function listCommand(
  listingName: string,
  spec: string | undefined,
  options: ListCommandOptions,
  io: CliIO,
): Promise<number> {
  const listing = CLI_LISTINGS[listingName] as ListingName;
  return withStore(spec, options, { readOnly: true }, async (store, parsed) => {
    const page = await listPage(store, listing, { after: options.after ?? null, limit: options.limit }).catch(
      (error: unknown) => {
        // A cursor or limit the core refuses is bad usage, refused before reading anything.
        throw error instanceof ValidationError ? new CliError(errorText(error), EXIT.usage) : error;
      },
    );
    // Ids may hold URLs with passwords (cache keys) and control characters: printed
    // redacted, and in text one line each with every control character escaped.
    const items = redactOutput(page.items);
    if (options.json) {
      const result = { store: parsed.display, listing: listingName, items, next: page.next };
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      for (const id of items) io.stdout.write(`${printable(JSON.stringify(id))}\n`);
      if (page.next !== null) io.stderr.write(`more: --after ${page.next}\n`);
    }
    return EXIT.ok;
  });
}
