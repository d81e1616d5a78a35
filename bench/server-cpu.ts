/**
 * Server-side measurements for the profiling scripts (Linux only: reads `/proc`): the CPU time
 * of server processes, the `redis-server` behind a URL, and Redis's per-command statistics.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ). */
const USER_HZ = 100;

/** CPU seconds (user + system) the processes `pids` have used so far; one that ended counts 0. */
export function cpuSecondsOf(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      sum += (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return sum;
}

/** The pid of the `redis-server` listening on `url`'s port (the oldest if several match). */
export function redisServerPid(url: string): number {
  const port = new URL(url).port || '6379';
  const out = execFileSync('pgrep', ['-o', '-f', `redis-server .*:${port}`]).toString();
  return Number(out.trim().split('\n')[0]);
}

/** Pids of every process whose command name is `name` (e.g. `postgres`, `redis-server`). */
export function pidsNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Redis `INFO commandstats`: per command, [calls, microseconds] so far (commands scripts run count too). */
export async function redisCommandStats(admin: Redis): Promise<Map<string, [number, number]>> {
  const text = await admin.info('commandstats');
  const stats = new Map<string, [number, number]>();
  for (const m of text.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g))
    stats.set(m[1]!, [Number(m[2]), Number(m[3])]);
  return stats;
}

/** Per subject, the commands Redis ran (calls, microseconds) added up over the measured rounds. */
export class CommandBreakdown {
  private readonly bySubject = new Map<string, Map<string, [number, number]>>();

  /** Adds what ran between two `redisCommandStats` snapshots to `subject`'s totals. */
  add(subject: string, before: Map<string, [number, number]>, after: Map<string, [number, number]>): void {
    const totals = this.bySubject.get(subject) ?? new Map<string, [number, number]>();
    for (const [cmd, [calls, usec]] of after) {
      const [c0, u0] = before.get(cmd) ?? [0, 0];
      const [ct, ut] = totals.get(cmd) ?? [0, 0];
      totals.set(cmd, [ct + calls - c0, ut + usec - u0]);
    }
    this.bySubject.set(subject, totals);
  }

  /**
   * One line per subject: `<cmd> <calls per unit>x <µs per unit>us`, slowest first, for the
   * commands `keep` accepts (given calls and µs per unit).
   */
  lines(
    units: number,
    label: string,
    keep: (calls: number, usec: number, cmd: string) => boolean,
    callDigits = 1,
  ): string[] {
    return [...this.bySubject].map(([subject, totals]) => {
      const parts = [...totals]
        .filter(([cmd, [calls, usec]]) => keep(calls / units, usec / units, cmd))
        .sort((a, b) => b[1][1] - a[1][1])
        .map(
          ([cmd, [calls, usec]]) =>
            `${cmd} ${(calls / units).toFixed(callDigits)}x ${(usec / units).toFixed(1)}us`,
        );
      return `${subject.padEnd(15)} ${label}: ${parts.join(', ')}`;
    });
  }
}
