/**
 * The CLI as a process, spawned through tsx: what happens around the command itself (a reader
 * that closes stdout early, signals while stores are still opening).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileStorage } from '../../src/backends/file/index.js';

const root = join(__dirname, '..', '..');
// `node --import tsx` runs the CLI in one process, so a signal reaches the CLI itself.
const node = [
  process.execPath,
  '--import',
  pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href,
  join(root, 'src', 'cli', 'bin.ts'),
];
// Only against a hang: each run compiles the CLI through tsx, slow under load.
jest.setTimeout(180_000);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-process-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Starts the CLI with piped stdout and stderr; `exited` resolves to its exit code and stderr. */
function start(args: string[]) {
  const child = spawn(node[0] as string, [...node.slice(1), ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { child, exited, stderr: () => stderr };
}

describe('connectome-storage as a process', () => {
  it('ends quietly with its exit code when the reader closes stdout first (list | head)', async () => {
    const store = new FileStorage({ baseDir: join(dir, 'listed') });
    await store.initialize();
    for (const id of ['a', 'b', 'c']) await store.storeConversation(id, { title: id });
    await store.shutdown();
    const run = start(['list', 'conversations', 'file:./listed']);
    // Closed long before the CLI (compiled by tsx first) writes: its first write finds EPIPE.
    run.child.stdout.destroy();
    const { code, stderr } = await run.exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'exits 130 on %s while a store is still opening, without waiting for its connect timeout',
    async (signal) => {
      // A loopback server that accepts connections and never answers: the open hangs until
      // the CLI's timeouts (2 minutes; without the fix, the run ends there with exit 2).
      const sockets: Socket[] = [];
      const server = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      let run: ReturnType<typeof start> | undefined;
      try {
        const source = `redis://127.0.0.1:${port}/0?connectTimeout=120000&commandTimeout=120000`;
        run = start(['migrate', '--from', source, '--to', 'file:./never-created']);
        // The first line is printed once the signal handler is in place, before the opens.
        const started = run;
        await new Promise<void>((resolve) =>
          started.child.stderr.on('data', () => {
            if (started.stderr().includes('\n')) resolve();
          }),
        );
        run.child.kill(signal);
        const { code, stderr } = await run.exited;
        expect(code).toBe(130);
        expect(stderr).toMatch(/Interrupted while opening the source redis:.*; nothing was written/);
        expect(stderr).not.toContain('partial copy');
      } finally {
        if (run?.child.exitCode === null) run.child.kill('SIGKILL');
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});
