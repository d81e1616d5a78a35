/**
 * Child process of `lossy-deferred.test.ts`, in a fresh process because Node resolves each of
 * its lazy web globals (`Headers`, `Response`, the web streams, ...) once per process: imports
 * the library (after noting which globals are lazy), stores plain records, then converts the values named on the command line in
 * order (`point`: a class instance, `headers`, `response`, `segments`) and prints as JSON
 * which of the globals the converter's table names were lazy before the import, and which of those were still unread after the plain writes and what each conversion gave.
 * Usage: tsx ... <baseDir> <value> [<value> ...]
 */

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const VALUES: Record<string, () => unknown> = {
  point: () => new Point(1, 2),
  headers: () => new Headers({ accept: 'text/plain' }),
  response: () => new Response('body'),
  segments: () => new Intl.Segmenter('en').segment('a b'),
};

/** Whether `globalThis[name]` is still the accessor Node defines for a global it loads lazily. */
const unread = (name: string): boolean =>
  typeof Object.getOwnPropertyDescriptor(globalThis, name)?.get === 'function';

async function main(): Promise<void> {
  const [baseDir, ...names] = process.argv.slice(2);
  // Before the library loads: the globals this Node version defines lazily.
  const lazyAtStart = Object.getOwnPropertyNames(globalThis).filter(unread);
  const { createStorage, SerializationError } = await import('../../src/index.js');
  const { toJsonValue } = await import('../../src/core/json.js');
  const { HOST_CLASSES } = await import('../../src/core/json-lossy.js');
  // Those of them the converter's table names (by the head of their path: `Intl.Locale` is Intl's).
  const lazyNamed = lazyAtStart.filter((name) => HOST_CLASSES.some((path) => path.split('.')[0] === name));
  const store = createStorage('file', { baseDir: baseDir! });
  await store.initialize();
  await store.storeMemory('c1', 'm1', { text: 'plain', tags: ['a'], nested: { n: 1 } });
  await store.storeCacheEntry('k1', { value: [1, 2, 3] });
  const stillUnread = lazyNamed.filter(unread);
  const results = names.map((name) => {
    try {
      return { name, stored: toJsonValue({ v: VALUES[name]!() }, 'Value') };
    } catch (error) {
      if (!(error instanceof SerializationError)) throw error;
      return { name, refused: error.message };
    }
  });
  await store.shutdown();
  process.stdout.write(JSON.stringify({ lazyNamed, stillUnread, results }));
}

void main();
