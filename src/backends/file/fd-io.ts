/**
 * File-descriptor calls of the write and read paths, each either a trip through Node's thread
 * pool or made at once. A trip costs a hand-off to a worker thread and back (~40 µs of wall
 * time and ~50 µs of CPU on the 2-core benchmark machine, idle), a call made at once ~5 µs.
 * Calls that may wait for the disk or for a journal commit stay on the pool: `open` of a new
 * file (it adds a folder entry), `open` of a file to read (its inode may have to be read from
 * disk), `read`, `write`, `fsync`. Calls that only touch the process's descriptor table or
 * an inode already in memory are made at once: `fstat` of an open descriptor, `close` of a
 * descriptor whose data is already synced or that was only read, and `open` of a folder the
 * store just wrote into (to fsync it; see `durable-dirs.ts`). Passes over many files read each
 * file at once instead, giving the event loop a turn every few files (their files are usually
 * page-cached, and a pass through the pool costs about three times the CPU): listings of
 * `cache/` and `system/` with {@link readFileAndStatSync} (the identity is kept), batch reads
 * with `readJsonFileSync` (`json-reads.ts`).
 */
import fs, { type BigIntStats } from 'node:fs';
import { CorruptDataError } from '../../core/index.js';
import {
  acquireSlot,
  holdFd,
  isOutOfDescriptors,
  releaseFd,
  releaseSlot,
  waitForDescriptor,
} from './descriptor-budget.js';

/**
 * Flags of every open of a file to read. `O_NONBLOCK` makes the open of a FIFO (or a device)
 * return at once instead of waiting for a writer, which would freeze the event loop in a
 * synchronous read and a pool thread in an asynchronous one; the file is then refused by its
 * `fstat` ({@link checkRegularFile}). It changes nothing for a regular file.
 */
export const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Throws {@link CorruptDataError} naming `file` unless `stat` (of its open descriptor) is a
 * regular file: a folder, a FIFO or a device where a data file belongs is bad data, like a file
 * that does not parse, not an I/O failure of the whole store.
 */
export function checkRegularFile(file: string, stat: BigIntStats): void {
  if (stat.isFile()) return;
  throw new CorruptDataError(file, stat.isDirectory() ? 'is a folder' : 'is not a regular file');
}

/**
 * Opens `file` with `flags` on the thread pool; resolves with the descriptor, which holds a slot
 * of the descriptor budget until {@link closeFdNow} (see `descriptor-budget.ts`). The slot is
 * taken at once when one is free (no extra promise); EMFILE is waited out.
 */
export function openFd(file: string, flags: string | number): Promise<number> {
  const wait = acquireSlot();
  return wait === null ? openHoldingSlot(file, flags) : wait.then(() => openHoldingSlot(file, flags));
}

function openHoldingSlot(file: string, flags: string | number): Promise<number> {
  return new Promise((resolve, reject) => {
    const since = Date.now();
    const attempt = (tries: number): void =>
      fs.open(file, flags, 0o666, (error, fd) => {
        if (error === null) {
          holdFd(fd);
          return resolve(fd);
        }
        const failed = (cause: unknown): void => {
          releaseSlot();
          reject(cause);
        };
        if (!isOutOfDescriptors(error)) return failed(error);
        waitForDescriptor(file, error, tries, since).then(() => attempt(tries + 1), failed);
      });
    attempt(1);
  });
}

/** Writes all of `bytes` at the start of the new, empty file `fd` (one `write` unless it is short). */
export function writeAllFd(fd: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (offset: number): void => {
      if (offset >= bytes.length) return resolve();
      fs.write(fd, bytes, offset, bytes.length - offset, offset, (error, written) =>
        error ? reject(error) : next(offset + written),
      );
    };
    next(0);
  });
}

/** Fsyncs `fd` on the thread pool. */
export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Closes `fd` at once, ignoring errors (used where the data is already synced, or was only
 * read), and gives back its budget slot if it holds one.
 */
export function closeFdNow(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // A failed close of a synced or read-only descriptor loses nothing; the descriptor is gone either way.
  } finally {
    releaseFd(fd);
  }
}

/** The bytes of a file and the `fstat` of its descriptor, taken before they were read. */
export interface BytesAndStat {
  bytes: Buffer;
  stat: BigIntStats;
}

/**
 * Reads a whole file: `open` and `read` on the pool, the `fstat` and `close` at once (two trips
 * instead of `readFile`'s four). Reads the size `fstat` reported, as `readFile` does, fewer
 * bytes if the file shrank meanwhile; a size of 0 (a file whose size the kernel does not know)
 * is read until the end. Anything but a regular file (a folder, a FIFO) is a
 * `CorruptDataError`, found before any read ({@link READ_FLAGS}).
 */
export async function readFileAndStat(file: string): Promise<BytesAndStat> {
  const fd = await openFd(file, READ_FLAGS);
  try {
    const stat = fs.fstatSync(fd, { bigint: true });
    checkRegularFile(file, stat);
    const size = Number(stat.size);
    return { bytes: size > 0 ? await readSize(fd, size) : await readToEnd(fd), stat };
  } finally {
    closeFdNow(fd);
  }
}

/**
 * {@link readFileAndStat} with every call made at once, for passes over many page-cached files
 * (a listing, a batch): about a third of the CPU of the trips through the pool.
 */
export function readFileAndStatSync(file: string): BytesAndStat {
  const fd = fs.openSync(file, READ_FLAGS);
  try {
    const stat = fs.fstatSync(fd, { bigint: true });
    checkRegularFile(file, stat);
    const size = Number(stat.size);
    if (size === 0) return { bytes: fs.readFileSync(fd), stat };
    const buffer = Buffer.allocUnsafe(size);
    let offset = 0;
    while (offset < size) {
      const bytesRead = fs.readSync(fd, buffer, offset, size - offset, offset);
      if (bytesRead === 0) return { bytes: buffer.subarray(0, offset), stat };
      offset += bytesRead;
    }
    return { bytes: buffer, stat };
  } finally {
    closeFdNow(fd);
  }
}

function readAt(fd: number, buffer: Buffer, offset: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, offset, buffer.length - offset, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    );
  });
}

async function readSize(fd: number, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let offset = 0;
  while (offset < size) {
    const bytesRead = await readAt(fd, buffer, offset, offset);
    if (bytesRead === 0) return buffer.subarray(0, offset);
    offset += bytesRead;
  }
  return buffer;
}

async function readToEnd(fd: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let position = 0; ;) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const bytesRead = await readAt(fd, chunk, 0, position);
    if (bytesRead === 0) return Buffer.concat(chunks);
    chunks.push(chunk.subarray(0, bytesRead));
    position += bytesRead;
  }
}
