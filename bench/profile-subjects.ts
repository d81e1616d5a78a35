/**
 * The subjects the Redis profiling scripts alternate: this checkout's library with the index
 * and with `searchIndex: false`, and with `PROFILE_BASE=<checkout>` another checkout's library
 * (indexed), loaded from its `src/index.js`.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */

/** A subject: its name, the `createStorage` it opens stores with, and whether they are indexed. */
export type ProfileSubject<C> = [name: string, create: C, searchIndex: boolean];

/** The subjects, this checkout's first; `C` is the script's narrow view of `createStorage`. */
export async function profileSubjects<C>(base: string | undefined): Promise<Array<ProfileSubject<C>>> {
  const own = (await import('../src/index.js')) as unknown as { createStorage: C };
  const subjects: Array<ProfileSubject<C>> = [
    ['branch indexed', own.createStorage, true],
    ['branch plain', own.createStorage, false],
  ];
  if (base !== undefined) {
    const other = (await import(`${base}/src/index.js`)) as { createStorage: C };
    subjects.push(['base indexed', other.createStorage, true]);
  }
  return subjects;
}
