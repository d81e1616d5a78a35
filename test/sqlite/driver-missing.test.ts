/** Without the sqlite3 driver the library still loads, and `initialize()` says what to install. */
import { BackendUnavailableError } from '../../src/core/index.js';

jest.mock('sqlite3', () => {
  throw new Error("Cannot find module 'sqlite3'");
});

describe('SQLite: driver not installed', () => {
  it('loads the backend module, reports the driver missing, and rejects initialize() with the fix', async () => {
    const { SQLiteStorage, isSqliteDriverInstalled } = await import('../../src/backends/sqlite/index.js');
    expect(isSqliteDriverInstalled()).toBe(false);
    const storage = new SQLiteStorage({ dbPath: ':memory:' });
    const error = await storage.initialize().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain('npm install sqlite3');
    // Installed without its native binding (npm install --ignore-scripts) is the other cause.
    expect((error as Error).message).toContain('npm rebuild sqlite3');
    expect(storage.isInitialized).toBe(false);
  });
});
