/**
 * A command whose store leaves a call pending with nothing left to run: the process ends, and
 * until 2026-12-04 it ended silently with exit 0, as if the command had succeeded.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(__dirname, '..', '..');
const loader = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const child = join(__dirname, 'pending-command.child.ts');
/** Only against a hang (compiling the CLI through tsx takes a while on a loaded machine). */
const RUN_TIMEOUT_MS = 120_000;
jest.setTimeout(RUN_TIMEOUT_MS + 30_000);

it('exits 3 saying the command stopped without finishing, not 0 in silence', async () => {
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', loader, child, 'stats', 'stuck:'],
      { cwd: root, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
  expect(result.stderr).toContain(
    'connectome-storage: the command stopped without finishing: its store left a call pending',
  );
  expect(result.stdout).toBe('');
  expect(result.code).toBe(3);
});
