/**
 * How the multi-process and crash suites start a child writer: `node --import tsx` (tsx as a
 * loader of this node, not its own CLI, which starts a second node process) on a child script of
 * this folder, given the store's {@link ChildStoreSpec}, the writer's name and its seed.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChildStoreSpec } from './harness.js';
import { underFdLimit } from '../support/fd-limit.js';

const ROOT = join(__dirname, '..', '..');

/** Starts `script` (a file of test/conformance/) as writer `writer` of the store `spec` describes; `extra` follows the seed. */
export function startChildWriter(
  script: 'multi-process.child.ts' | 'crash.child.ts',
  spec: ChildStoreSpec,
  writer: string,
  seed: number,
  extra: string[] = [],
): ChildProcessByStdio<null, Readable, Readable> {
  return startChild(script, [JSON.stringify(spec), writer, String(seed), ...extra]);
}

/**
 * Starts `script` (a file of test/conformance/) with `args`; with `fdLimit`, under that soft
 * and hard descriptor limit (`ulimit -n`, through `sh`, which then `exec`s node).
 */
export function startChild(
  script: string,
  args: string[],
  fdLimit?: number,
): ChildProcessByStdio<null, Readable, Readable> {
  const command = [process.execPath, '--import', 'tsx', join(ROOT, 'test', 'conformance', script), ...args];
  const options = { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
  if (fdLimit === undefined) return spawn(command[0] as string, command.slice(1), options);
  const limited = underFdLimit(fdLimit, command);
  return spawn(limited.file, limited.args, { ...options, env: limited.env });
}

/**
 * Resolves with the JSON line `child` prints once it exits 0; rejects naming `name`, its exit
 * code and its stderr otherwise.
 */
export function readChildReport<T>(
  child: ChildProcessByStdio<null, Readable, Readable>,
  name: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as T);
      else reject(new Error(`${name} exited ${code}: ${stderr.slice(0, 2000)}`));
    });
  });
}
