/**
 * A process out of file descriptors: SQLite reports EMFILE as a bare CANTOPEN "unable to open
 * database file", which reads as a missing folder or a permission. The store's error says the
 * descriptor limit was reached, on a write that needs a journal and on an open. Run in a child
 * under `ulimit -n 256` (no mocks): it takes every descriptor left itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { underFdLimit } from '../support/fd-limit.js';

const CHILD = path.join('test', 'sqlite', 'no-descriptors.child.ts');
const NOTE =
  "(no file descriptor left: EMFILE, this process's (`ulimit -n`) limit reached; raise it, or open fewer stores or files at once)";

// `ulimit` is a POSIX shell's.
const describePosix = process.platform === 'win32' ? describe.skip : describe;

describePosix('sqlite without file descriptors', () => {
  it('names the descriptor limit in the CANTOPEN of a write and of an open', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sqlite-no-fd-'));
    try {
      const limited = underFdLimit(256, [process.execPath, '--import', 'tsx', CHILD, dir]);
      const out = execFileSync(limited.file, limited.args, { env: limited.env });
      const { write, open, held } = JSON.parse(out.toString()) as Record<
        string,
        { name: string; message: string } | number
      >;
      expect(held).toBeGreaterThan(0);
      expect(write).toEqual({
        name: 'BackendUnavailableError',
        message: `SQLite database ${path.join(dir, 'a.db')} cannot be opened (store conversation "c"): SQLITE_CANTOPEN: unable to open database file ${NOTE}`,
      });
      expect(open).toEqual({
        name: 'BackendUnavailableError',
        message: `SQLite database ${path.join(dir, 'b.db')} cannot be opened: SQLITE_CANTOPEN: unable to open database file ${NOTE}`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
