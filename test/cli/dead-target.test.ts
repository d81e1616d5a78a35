/**
 * A migration whose target dies mid-copy: the CLI reads the target's resume marker to choose
 * between exit 2 (nothing written) and 3 (resume), and a dead target must not hold that read,
 * and so the exit, for its driver's timeout. The target's command timeout here is 10 minutes:
 * before 2026-12-03 the run waited it out and was killed by the run timeout below.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileStorage } from '../../src/backends/file/index.js';
import { populate } from '../migration/support.js';
import { freePort, redisBinariesMissing, RedisServerProcess } from '../redis/redis-server.js';

const root = join(__dirname, '..', '..');
const loader = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const child = join(__dirname, 'dead-target.child.ts');
/**
 * Only against a hang (compiling the CLI through tsx takes a while on a loaded machine). The run
 * is killed with SIGKILL: the CLI takes SIGTERM for an interrupt.
 */
const RUN_TIMEOUT_MS = 120_000;
jest.setTimeout(RUN_TIMEOUT_MS + 30_000);

let dir: string;
let server: RedisServerProcess;
beforeAll(async () => {
  const missing = await redisBinariesMissing();
  if (missing) throw new Error(missing);
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-dead-target-'));
  const source = new FileStorage({ baseDir: join(dir, 'src') });
  await source.initialize();
  await populate(source);
  await source.shutdown();
  server = new RedisServerProcess(await freePort());
  await server.start();
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('a migration whose target died exits 3 soon, saying the target could not tell what it holds', async () => {
  const target = `dying-redis:?url=${encodeURIComponent(server.url)}&keyPrefix=dead-target:`;
  const args = ['migrate', '--from', `file:${join(dir, 'src')}`, '--to', target, '--concurrency', '1'];
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', loader, child, ...args],
      {
        cwd: dir,
        timeout: RUN_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        env: { ...process.env, DEAD_TARGET_PORT: String(server.port) },
      },
      (error, _stdout, stderr) => {
        const killed = error?.killed ? `\n[killed after ${RUN_TIMEOUT_MS} ms]` : '';
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stderr: stderr + killed,
        });
      },
    );
  });
  expect(result.stderr).toContain('the target server shut down mid-copy');
  expect(result.stderr).toContain('The target did not answer whether anything was written');
  expect(result.code).toBe(3);
});
