/**
 * A conversation write stages its temp file before it holds the conversation's lock, so another
 * process may delete the conversation (move its folder away) right after the temp file was
 * created, before the write opens the folder for its later fsync. That open then fails: the
 * write must still land (it writes again under the lock), and the failed open must not be an
 * unhandled rejection, which ends a Node process (found by the multi-process conformance suite:
 * a child process died with ENOENT opening `conversations/o1`).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { makeTempDir, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const CHILD = path.join('test', 'file', 'staged-folder-removed.child.ts');
const TSX = path.join('node_modules', '.bin', 'tsx');

/** Runs the child; resolves with its exit code, stdout and stderr. */
function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('file backend: a conversation folder removed while a write is staged', () => {
  it.each([
    ['storeConversation', { conversation: { v: 1 }, chunkInfo: null, rawMessages: [] }],
    ['storeChunkInfo', { conversation: null, chunkInfo: { v: 1 }, rawMessages: [] }],
    ['storeRawMessages', { conversation: null, chunkInfo: null, rawMessages: [{ v: 1 }] }],
  ])('%s still lands, and the process lives on', async (method, expected) => {
    const result = await runChild([path.join(await makeTempDir(), 'store'), method]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The write came after the delete: the new value alone is stored.
    expect(JSON.parse(result.stdout)).toEqual({ stored: true, ...expected });
  });
});
