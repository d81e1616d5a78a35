/**
 * One full-disk case: a seeded store on a small disk, a fill that leaves a little room, one
 * write; then the checks every embedded backend must pass (typed error naming the record and
 * the cause, nothing stored lost or half-written, listings and stats exact, the same instance
 * writes again once there is room, a fresh instance reads everything).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type HealthReport, StorageError, type StorageInterface } from '../../src/core/index.js';
import {
  DISK_WRITES,
  type DiskWrite,
  seedStore,
  type StoreSnapshot,
  snapshotStore,
  snapshotWithoutTimes,
} from './disk-full-ops.js';
import { describeWithSmallDisk, type SmallDisk, useSmallDisk } from './small-disk.js';

/** A backend configuration under test. */
export interface DiskSetup {
  name: string;
  /** Opens (creating) a store in `dir`. */
  open(dir: string): Promise<StorageInterface>;
  /**
   * Entries under `dir` a failed write must not leave (temp files, journals): their relative
   * paths; `closed`: every store on `dir` is shut down (background writes are done too).
   */
  leftovers(dir: string, closed: boolean): Promise<string[]>;
  /** What a full-disk error's message must say besides the record (the cause). */
  cause: RegExp;
  /**
   * What else a message may name instead of the record: the file of a store that keeps every
   * record in one (SQLite), under `dir`.
   */
  storeName?: (dir: string) => string;
  /**
   * The backups under `dir` (each with a digest of its bytes), for a store that keeps them: a
   * write that fails all or nothing must leave them as they were.
   */
  backups?: (dir: string) => Promise<string[]>;
}

/** How full a case makes the disk. */
export interface DiskFill {
  label: string;
  apply(disk: SmallDisk): void;
  /** No room at all is left: every write that adds data must fail. */
  full?: boolean;
}

/** The store before and after a write done on a roomy disk (write times dropped). */
export interface Reference {
  before: StoreSnapshot;
  after: StoreSnapshot;
}

/** A seeded store on an ordinary temp dir, shut down: each case starts from a copy of it. */
export interface SeededTemplate {
  dir: string;
  /** Its snapshot (write times dropped). */
  before: StoreSnapshot;
}

/** Seeds a store once (copying it is much cheaper than seeding it for every case). */
export async function seedTemplate(setup: DiskSetup): Promise<SeededTemplate> {
  const root = await mkdtemp(path.join(tmpdir(), 'connectome-disk-seed-'));
  const dir = path.join(root, 'store');
  const store = await setup.open(dir);
  try {
    await seedStore(store);
    return { dir, before: await snapshotStore(store, false) };
  } finally {
    await store.shutdown();
  }
}

/** Removes a template made by {@link seedTemplate}. */
export async function removeTemplate(template: SeededTemplate): Promise<void> {
  await rm(path.dirname(template.dir), { recursive: true, force: true });
}

/** Makes `write` on a copy of the template on an ordinary disk: what a full disk must end in. */
export async function referenceOf(
  setup: DiskSetup,
  template: SeededTemplate,
  write: DiskWrite,
): Promise<Reference> {
  const dir = await mkdtemp(path.join(tmpdir(), 'connectome-disk-ref-'));
  try {
    await cp(template.dir, path.join(dir, 'store'), { recursive: true });
    const store = await setup.open(path.join(dir, 'store'));
    try {
      await write.run(store);
      return { before: template.before, after: await snapshotStore(store, false) };
    } finally {
      await store.shutdown();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What one case saw, for the suite's own checks. */
export interface CaseResult {
  /** The write's error on the full disk, or `null` when it fit. */
  error: unknown;
  /** `healthCheck()` while the disk was still full. */
  health: HealthReport;
}

/** Fails instead of waiting forever for a call that hangs. */
async function settleWithin<T>(what: string, call: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (a hang)`)), ms);
  });
  try {
    return await Promise.race([call, hang]);
  } finally {
    clearTimeout(timer);
  }
}

function checkError(error: unknown, write: DiskWrite, setup: DiskSetup, dir: string, where: string): void {
  if (!(error instanceof StorageError)) {
    throw new Error(`${where}: not a StorageError: ${String(error)}`, { cause: error });
  }
  const message = error.message;
  if (!setup.cause.test(message)) throw new Error(`${where}: the cause is not named: ${message}`);
  const names = setup.storeName === undefined ? write.ids : [...write.ids, setup.storeName(dir)];
  if (!names.some((name) => message.includes(name))) {
    throw new Error(`${where}: none of ${names.join(', ')} is named: ${message}`);
  }
}

/** Every record is as before or as after (a batch that is not all or nothing). */
function checkEachRecord(now: StoreSnapshot, ref: Reference, where: string): void {
  for (const key of Object.keys(ref.before)) {
    if (key.startsWith('list:') || key.startsWith('stats:')) continue;
    const value = JSON.stringify(now[key]);
    if (value !== JSON.stringify(ref.before[key]) && value !== JSON.stringify(ref.after[key])) {
      throw new Error(`${where}: ${key} is neither the old nor the new record: ${value.slice(0, 200)}`);
    }
  }
}

/** Runs one case in a fresh folder of `disk`; throws (with the case named) on the first broken rule. */
export async function runDiskCase(
  disk: SmallDisk,
  setup: DiskSetup,
  template: SeededTemplate,
  write: DiskWrite,
  fill: DiskFill,
  ref: Reference,
): Promise<CaseResult> {
  const where = `${setup.name} › ${write.name} › ${fill.label}`;
  const dir = path.join(disk.dir, 'store');
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const stores: StorageInterface[] = [];
  try {
    await cp(template.dir, dir, { recursive: true });
    const store = await setup.open(dir);
    stores.push(store);
    const before = await snapshotStore(store);
    expect(snapshotWithoutTimes(before)).toEqual(ref.before);
    fill.apply(disk);
    const backups = await setup.backups?.(dir);
    const error = await settleWithin(
      where,
      write.run(store).then(
        () => null,
        (e: unknown) => e,
      ),
    );
    // A disk with no room at all fails every write that adds data: the fill really filled it.
    if (fill.full === true && /^(store|append)/.test(write.name) && error === null) {
      throw new Error(`${where}: the write fit on a full disk`);
    }
    const full = await settleWithin(`${where}: snapshot`, snapshotStore(store));
    if (error === null) {
      expect([where, snapshotWithoutTimes(full)]).toEqual([where, ref.after]);
    } else {
      checkError(error, write, setup, dir, where);
      if (write.atomic) expect([where, full]).toEqual([where, before]);
      else checkEachRecord(snapshotWithoutTimes(full), ref, where);
      if (write.atomic) expect([where, await setup.backups?.(dir)]).toEqual([where, backups]);
    }
    const health = await settleWithin(`${where}: healthCheck`, store.healthCheck());
    expect([where, await setup.leftovers(dir, false)]).toEqual([where, []]);
    disk.free();
    // The same instance writes again once there is room (the write repeated when it failed).
    if (error !== null) await settleWithin(`${where}: retry`, write.run(store));
    expect([where, snapshotWithoutTimes(await snapshotStore(store))]).toEqual([where, ref.after]);
    const fresh = await setup.open(dir);
    stores.push(fresh);
    expect([where, snapshotWithoutTimes(await snapshotStore(fresh))]).toEqual([where, ref.after]);
    expect([where, (await fresh.healthCheck()).status]).toEqual([where, 'healthy']);
    // Shut down, every background write (search segments) is done: nothing temporary is left.
    for (const opened of stores.splice(0)) await opened.shutdown();
    expect([where, await setup.leftovers(dir, true)]).toEqual([where, []]);
    expect([where, unhandled]).toEqual([where, []]);
    return { error, health };
  } finally {
    process.off('unhandledRejection', onUnhandled);
    for (const store of stores) await store.shutdown().catch(() => undefined);
    disk.free();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs every write of the full-disk suite on `setup` under each of `fills`, on a disk of `size`. */
export function describeDiskFull(
  setup: DiskSetup,
  fills: DiskFill[],
  size: { kb: number; inodes: number },
): void {
  describeWithSmallDisk()(`${setup.name} on a full disk`, () => {
    const disk = useSmallDisk(size);
    let template: SeededTemplate;
    beforeAll(async () => {
      template = await seedTemplate(setup);
    });
    afterAll(() => removeTemplate(template));
    for (const write of DISK_WRITES) {
      it(`${write.name}: fails cleanly, loses nothing, writes again once there is room`, async () => {
        const ref = await referenceOf(setup, template, write);
        for (const fill of fills) await runDiskCase(disk(), setup, template, write, fill, ref);
      });
    }
  });
}
