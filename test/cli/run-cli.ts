/** Runs the CLI's `main` in-process with captured output, for the CLI tests. */
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** A writable stream that keeps everything written to it in `text`. */
export function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stream.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

/** Runs `connectome-storage <args>`; returns the exit code and what it wrote (`all`: stdout then stderr). */
export async function cli(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string; all: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await main(args, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text, all: stdout.text + stderr.text };
}
