/**
 * What `console.log(storage)`, `util.inspect(storage)` and `JSON.stringify(storage)` show of a
 * store: its backend type, whether it is open, and its config with every secret masked. A
 * store's own fields hold its connection URL (password included), its driver's client or pool
 * (whose options hold the same) and whatever a registered backend keeps, so printing them as
 * they are would put a password in a log, which the library never does elsewhere.
 */
import { redactUrlsInText } from './redact.js';
import { isSecretName, MASK } from './secret-names.js';

/** How deep a config is followed; deeper values are replaced by {@link TOO_DEEP}. */
const MAX_DEPTH = 4;

/** What replaces a value nested deeper than {@link MAX_DEPTH}. */
const TOO_DEEP = '[nested too deep]';

/** The printable view of a store ({@link storeView}). */
export interface StoreView {
  /** Backend name as registered in the factory. */
  storageType: string;
  /** True between `initialize()` and `shutdown()`. */
  initialized: boolean;
  /** The store's `config` with secrets masked ({@link shownConfig}); absent when it has none. */
  config?: unknown;
}

/** `util.inspect`'s own `inspect`, as Node passes it to a custom inspect method. */
export type InspectFunction = (value: unknown, options: object) => string;

/**
 * The name of `value`'s class (`[Redis]`, `[Pool]`), shown instead of its contents: a driver's
 * client or pool, a logger or an embedder is no data of the config, and its fields may hold the
 * URL or a key. Reading the prototype of a Proxy may throw: then a generic name.
 */
function placeholder(value: object): string {
  if (typeof value === 'function') return '[Function]';
  try {
    const name: unknown = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)
      ?.constructor?.name;
    return typeof name === 'string' && name !== '' ? `[${name}]` : '[Object]';
  } catch {
    return '[Object]';
  }
}

/** True for an object literal's kind of object (what a parsed config is made of). */
function isPlainObject(value: object): value is Record<string, unknown> {
  try {
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch {
    return false;
  }
}

/** A copy of one config value with secrets masked; `depth` is how far it is nested. */
function shownValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactUrlsInText(value);
  // JSON.stringify throws on a bigint: shown as its digits.
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function') return placeholder(value);
  if (typeof value !== 'object' || value === null) return value;
  if (!Array.isArray(value) && !isPlainObject(value)) return placeholder(value);
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((item: unknown) => shownValue(item, depth + 1));
  const shown: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    let item: unknown;
    try {
      item = value[key];
    } catch {
      continue; // a getter that throws: left out, as printing must not fail
    }
    // Defined, not assigned: a `__proto__` field stays a field.
    Object.defineProperty(shown, key, {
      value: isSecretName(key) && item !== undefined ? MASK : shownValue(item, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return shown;
}

/**
 * A copy of `config` fit to print: URL passwords and secret-looking query values in every
 * string masked (`redis://:***@host`), every field named like a secret (`password`, `token`,
 * `secret`, `apiKey`, ...) masked whole, and every object other than a plain object or array
 * (a client, a pool, a logger, an embedder) named by its class only. The config is not changed.
 */
export function shownConfig(config: unknown): unknown {
  return shownValue(config, 0);
}

/** The printable view of a store, from its type, its state and its `config` (if any). */
export function storeView(storageType: string, initialized: boolean, config: unknown): StoreView {
  const view: StoreView = { storageType, initialized };
  if (config !== undefined) view.config = shownConfig(config);
  return view;
}

/**
 * `value` as `util.inspect` shows it in place of the object whose custom inspect method got
 * `depth` (the levels left, `null` for no limit) and `options`: through Node's own `inspect`, so
 * that colours and the depth follow the caller's options; without it (a direct call), as JSON.
 * `null` when no level is left.
 */
function inspectInPlace(
  value: unknown,
  depth: number | null,
  options: object,
  inspect: InspectFunction | undefined,
): string | null {
  if (depth !== null && depth < 0) return null;
  if (typeof inspect !== 'function') return JSON.stringify(value);
  return inspect(value, { ...options, depth });
}

/** `view` as `util.inspect` shows it, under `name`: `RedisStorage { storageType: 'redis', ... }`. */
export function inspectView(
  name: string,
  view: object,
  depth: number | null,
  options: object,
  inspect: InspectFunction | undefined,
): string {
  const shown = inspectInPlace(view, depth, options, inspect);
  return shown === null ? `[${name}]` : `${name} ${shown}`;
}

/**
 * Gives `config` (a backend's parsed config that the store exposes) a `toJSON` and a custom
 * inspect showing {@link shownConfig}, both non-enumerable, so `console.log(storage.config)`
 * masks its secrets too while `storage.config.url` still reads the URL as given. Returns it.
 */
export function withShownConfig<T extends object>(config: T): T {
  Object.defineProperty(config, 'toJSON', { value: () => shownConfig(config), enumerable: false });
  Object.defineProperty(config, Symbol.for('nodejs.util.inspect.custom'), {
    value: (depth: number | null, options: object, inspect?: InspectFunction): string =>
      inspectInPlace(shownConfig(config), depth, options, inspect) ?? '[Object]',
    enumerable: false,
  });
  return config;
}
