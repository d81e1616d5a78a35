/**
 * How the crash suite runs its child writers (`crash.child.ts`): killed mid-write, killed inside
 * `initialize()`, or left to finish a fixed number of calls under a deadline; and what a killed
 * file-backend writer may not leave behind.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startChildWriter } from './child-writer.js';
import type { ChildStoreSpec } from './harness.js';
import type { CrashLine, CrashMode } from './crash-log.js';
import type { LoggedCall } from './suites/crash-checks.js';

/** Calls a child finishes at least before it is killed mid-write. */
const MIN_FINISHED = 3;

/** When a child is killed (if at all). */
export type KillPlan =
  /**
   * `delayMs` after it is ready and `startAfter` (if given) resolved, once it finished
   * {@link MIN_FINISHED} calls (mid-write, whatever the load).
   */
  | { at: 'write'; delayMs: number; startAfter?: Promise<unknown> }
  /** `delayMs` after it announced `initialize()` (ready or not by then); it opens once `openAfter` resolved. */
  | { at: 'init'; delayMs: number; openAfter: Promise<unknown> }
  /**
   * Never: once `finishOn` resolves it is told to make `calls` more per lane and end; it must
   * end within `deadlineMs` of that, else it is killed and the run fails.
   */
  | { at: 'never'; calls: number; deadlineMs: number; finishOn: Promise<unknown> };

/** What a child did: its calls in start order, and whether `initialize()` had finished when it died. */
export interface ChildRun {
  pid: number;
  calls: LoggedCall[];
  ready: boolean;
}

/** The calls a child's stdout announces (the last line may be cut by the kill: skipped). */
function parseCalls(stdout: string): LoggedCall[] {
  const calls = new Map<number, LoggedCall>();
  for (const text of stdout.split('\n')) {
    let line: CrashLine;
    try {
      line = JSON.parse(text) as CrashLine;
    } catch {
      continue;
    }
    if ('n' in line) calls.set(line.n, { ...line, done: false });
    else if ('done' in line) calls.get(line.done)!.done = true;
  }
  return [...calls.values()].sort((a, b) => a.n - b.n);
}

/** Starts a child as `writer` in `mode` and kills it as `plan` says; resolves with what it did. */
export function runCrashChild(
  spec: ChildStoreSpec,
  writer: string,
  seed: number,
  plan: KillPlan,
  mode: CrashMode = 'mixed',
  onReady: () => void = () => undefined,
): Promise<ChildRun> {
  // A kill at once inside initialize(): the child holds there until it comes (crash.child.ts).
  const hold = plan.at === 'init' && plan.delayMs === 0;
  const extra = plan.at === 'never' ? [mode, String(plan.calls)] : hold ? [mode, 'hold'] : [mode];
  return new Promise((resolve, reject) => {
    const child = startChildWriter('crash.child.ts', spec, writer, seed, extra);
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    let due = false;
    let hung = false;
    const finished = (): number => stdout.match(/"done"/g)?.length ?? 0;
    const killIfDue = (): void => {
      if (due && (plan.at !== 'write' || finished() >= MIN_FINISHED)) child.kill('SIGKILL');
    };
    let closed = false;
    let armed = false;
    const arm = (ms: number): void => {
      if (armed || closed) return;
      armed = true;
      timer = setTimeout(() => {
        due = true;
        killIfDue();
      }, ms);
    };
    if (plan.at === 'never') {
      void plan.finishOn.then(() => {
        if (closed) return;
        child.kill('SIGUSR2');
        timer = setTimeout(() => {
          hung = true;
          child.kill('SIGKILL');
        }, plan.deadlineMs);
      });
    }
    let ready = false;
    let loaded = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!loaded && plan.at === 'init' && stdout.includes('"loaded":true')) {
        loaded = true;
        void plan.openAfter.then(() => closed || child.kill('SIGUSR2'));
      }
      if (!ready && stdout.includes('"ready":true')) {
        ready = true;
        onReady();
        if (plan.at === 'write') void (plan.startAfter ?? Promise.resolve()).then(() => arm(plan.delayMs));
      }
      if (plan.at === 'init' && stdout.includes('"init":true')) {
        // No delay: killed here, not a timer tick later (a short open may be over by then).
        if (plan.delayMs === 0) child.kill('SIGKILL');
        else arm(plan.delayMs);
      }
      killIfDue();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      closed = true;
      clearTimeout(timer);
      const calls = parseCalls(stdout);
      if (hung) {
        const open = calls.filter((c) => !c.done).map((c) => `${c.call} #${c.n}`);
        reject(
          new Error(
            `crash child ${writer} did not finish its calls within ${plan.at === 'never' ? plan.deadlineMs : 0} ms ` +
              `(ready: ${ready}; unfinished: ${open.join(', ') || 'none'}): blocked by a dead writer's lock?`,
          ),
        );
      } else if (plan.at === 'never' ? code !== 0 || !stdout.includes('"end":true') : signal !== 'SIGKILL') {
        reject(new Error(`crash child ${writer} ended with ${code ?? signal}: ${stderr}`));
      } else resolve({ pid: child.pid!, calls, ready });
    });
  });
}

/** Every writer mark of `pids`, temp entry and lock folder left under `dir` (the lock file itself stays by design). */
export async function leftovers(dir: string, pids: number[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const name = entry.name;
    const deadMark = name.endsWith('.writer') && pids.some((pid) => name.includes(`-${pid}-`));
    if (name.endsWith('.tmp') || name.endsWith('.lock') || deadMark) found.push(join(entry.parentPath, name));
  }
  return found;
}
