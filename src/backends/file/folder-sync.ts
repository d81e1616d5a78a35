/**
 * Folder fsyncs after a rename, shared between concurrent writes to one folder (group commit).
 * An fsync of a folder makes every entry renamed into it before the fsync started durable, so
 * writes that renamed while one fsync was running wait for the next one, and that single next
 * fsync serves all of them: 64 concurrent cache writes make a few folder fsyncs, not 64.
 *
 * Only folders the store never removes or replaces (`cache/`, `system/`, `conversations/`,
 * `agents/`) are shared: there, a handle opened by one writer, or opened when the round starts,
 * is the folder every member renamed into. A per-conversation folder can be deleted and made
 * again by another process, so a handle opened earlier might be the old folder's: its writes
 * keep an fsync of their own handle (they are serialised by the conversation's lock anyway).
 */
import { closeDir, openDir, syncAndCloseDir, tryOpenDir } from './durable-dirs.js';

/** A folder to sync after a write's rename, with the handle opened for it while the file was written. */
export interface FolderSyncTicket {
  /** Absolute path of the folder. */
  readonly dir: string;
  /**
   * The folder's descriptor (see `openDir`), opened before the rename; `null` when a shared
   * round will open the folder itself.
   */
  readonly handle: Promise<number | null> | null;
  /** Whether the fsync may be shared with other writes to `dir` (see the module comment). */
  readonly shared: boolean;
  /** Called once the fsync this ticket waited for succeeded (see `durable-entries.ts`). */
  readonly afterSync?: () => void;
}

/** The writes waiting for the next fsync of one folder, and the handles they brought. */
interface Round {
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
  handles: Promise<number | null>[];
}

/** One shared folder: whether an fsync is running, and the round that waits for the next one. */
interface FolderState {
  running: boolean;
  next: Round | null;
}

/** Shared folders with an fsync running or waiting, by path (process-wide: stores on one folder share them). */
const folders = new Map<string, FolderState>();

/** How folders are opened and synced; a test seam, the defaults are the real calls. */
export interface FolderSyncIo {
  open: (dir: string) => Promise<number | null>;
  syncAndClose: (handle: number | null) => Promise<void>;
  /**
   * The early open beside a write's temp file: only if a descriptor slot is free now, else
   * `undefined` (see `tryOpenDir`). Absent: `open` is used.
   */
  tryOpen?: (dir: string) => number | null | undefined;
}

const realIo: FolderSyncIo = { open: openDir, syncAndClose: syncAndCloseDir, tryOpen: tryOpenDir };
let io: FolderSyncIo = realIo;

/** Replaces the folder calls (tests only); `null` restores the real ones. */
export function setFolderSyncIo(replacement: FolderSyncIo | null): void {
  io = replacement ?? realIo;
}

/**
 * A ticket for syncing `dir` after a rename, opened now (alongside the file's write) unless
 * the folder is shared and an fsync of it is running: the write then most likely joins the
 * next round, which needs only one handle. `openNow: false` leaves the open to the sync (a
 * batch's writes all join one round, which opens the folder once). `afterSync` is called once
 * that fsync succeeded (a folder entry then known to be on disk, see `durable-entries.ts`).
 */
export function prepareFolderSync(
  dir: string,
  shared: boolean,
  openNow = true,
  afterSync?: () => void,
): FolderSyncTicket {
  const joining = shared && folders.get(dir)?.running === true;
  const handle = joining || !openNow ? null : openEarly(dir);
  // The handle is awaited only after the file's write: a failed open (the folder moved away
  // meanwhile by another process's deleteConversation) must not be an unhandled rejection,
  // which ends the process; whoever awaits the handle still sees the failure.
  handle?.catch(() => undefined);
  return { dir, handle, shared, ...(afterSync ? { afterSync } : {}) };
}

/**
 * The early open of `dir` by a write that holds its temp file's descriptor: it must not wait
 * for a descriptor slot (see `descriptor-budget.ts`), so with none free the open is left to the
 * sync (`null`), made once the temp file is closed.
 */
function openEarly(dir: string): Promise<number | null> | null {
  if (io.tryOpen === undefined) return io.open(dir);
  try {
    const fd = io.tryOpen(dir);
    return fd === undefined ? null : Promise.resolve(fd);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Resolves once the folder of every ticket is fsynced by a call that started after this one:
 * the caller's renames are then on disk. All tickets join the next round of their folder before
 * it starts, so a batch's files renamed into one folder cost one fsync. Rejects when an fsync
 * fails, once all have settled. The tickets' handles are closed either way.
 */
export async function syncFolders(tickets: readonly FolderSyncTicket[]): Promise<void> {
  const done = tickets.map((ticket) => joinRound(ticket).then(ticket.afterSync));
  for (const { dir } of tickets) {
    const state = folders.get(dir);
    if (state !== undefined && !state.running) void runRound(dir, state);
  }
  const failed = (await Promise.allSettled(done)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Adds `ticket` to the next round of its folder (an unshared folder: syncs it alone, now). */
function joinRound(ticket: FolderSyncTicket): Promise<void> {
  if (!ticket.shared) return (ticket.handle ?? io.open(ticket.dir)).then((handle) => io.syncAndClose(handle));
  let state = folders.get(ticket.dir);
  if (state === undefined) {
    state = { running: false, next: null };
    folders.set(ticket.dir, state);
  }
  const round: Round = (state.next ??= { waiters: [], handles: [] });
  if (ticket.handle !== null) round.handles.push(ticket.handle);
  return new Promise<void>((resolve, reject) => round.waiters.push({ resolve, reject }));
}

/** Closes a ticket's handle without syncing (the write failed), ignoring errors. */
export async function discardFolderSync(ticket: FolderSyncTicket): Promise<void> {
  await ticket.handle?.then(closeDir).catch(() => undefined);
}

/**
 * Takes the waiting round (synchronously, so a write renamed after this point joins the next
 * one), fsyncs the folder once with the first handle that opened (or a new one) and settles
 * every member; then starts the next round if writes joined meanwhile.
 */
async function runRound(dir: string, state: FolderState): Promise<void> {
  const round = state.next as Round;
  state.next = null;
  state.running = true;
  try {
    const opened = await Promise.allSettled(round.handles);
    const handles = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const [first, ...rest] = handles;
    // Any member's handle is this folder (it is never replaced); spare ones are closed alongside.
    rest.forEach(closeDir);
    await io.syncAndClose(first === undefined ? await io.open(dir) : first);
    for (const waiter of round.waiters) waiter.resolve();
  } catch (error) {
    for (const waiter of round.waiters) waiter.reject(error);
  } finally {
    state.running = false;
    if (state.next !== null) void runRound(dir, state);
    else folders.delete(dir);
  }
}
