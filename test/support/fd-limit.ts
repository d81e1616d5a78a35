/**
 * Runs a child process under a descriptor limit (`ulimit -n`, a POSIX shell's, which then
 * `exec`s the command). The child loads TypeScript through tsx with its disk cache off: on a
 * cold cache (a fresh clone) tsx writes each transformed module to `/tmp/tsx-*` asynchronously,
 * holding dozens of descriptors at start-up, so a child under `ulimit -n 64` died with EMFILE
 * before running a line of its own.
 */

/** `spawn`/`execFileSync` arguments that run `command` (a program and its arguments) under `limit` descriptors. */
export function underFdLimit(
  limit: number,
  command: readonly string[],
): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    file: 'sh',
    args: ['-c', `ulimit -n ${limit} && exec "$@"`, 'sh', ...command],
    env: { ...process.env, TSX_DISABLE_CACHE: '1' },
  };
}
