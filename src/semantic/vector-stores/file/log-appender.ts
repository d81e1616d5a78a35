/**
 * Appends frames to the file vector store's log: each append is written at the end of the
 * committed bytes and fsynced before it counts. A failed append is cut off again, so the next
 * one never lands behind a half-written frame. Before each append the file's size is checked
 * against the committed length, so a write of another writer is never overwritten.
 */
import fs from 'node:fs';
import { CorruptDataError } from '../../../core/errors.js';
import { ioError } from '../../../backends/file/atomic-json.js';

// The callback API, looked up at each call: faster than `fs.promises` handles on Node 20.
function call<T>(task: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    task((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}

/** An open log file, positioned after its last committed frame. */
export class LogAppender {
  /** The log file. */
  readonly file: string;
  readonly #fd: number;
  #length: number;

  private constructor(file: string, fd: number, length: number) {
    this.file = file;
    this.#fd = fd;
    this.#length = length;
  }

  /** Opens `file` for appending after its first `length` bytes; anything beyond them (a torn write) is cut off. */
  static async open(file: string, length: number): Promise<LogAppender> {
    let fd: number;
    try {
      fd = await call<number>((done) => fs.open(file, 'r+', done));
    } catch (error) {
      throw ioError('open', file, error);
    }
    const appender = new LogAppender(file, fd, length);
    try {
      const size = (await call<fs.Stats>((done) => fs.fstat(fd, done))).size;
      if (size !== length) await appender.#cutTo(length);
    } catch (error) {
      await appender.close();
      throw ioError('truncate the torn tail of', file, error);
    }
    return appender;
  }

  /** Bytes committed so far. */
  get length(): number {
    return this.#length;
  }

  async #cutTo(length: number): Promise<void> {
    await call((done) => fs.ftruncate(this.#fd, length, done));
    await call((done) => fs.fdatasync(this.#fd, done));
  }

  /**
   * Writes `bytes` after the committed ones and syncs them; on failure the file is cut back.
   *
   * @throws {CorruptDataError} before writing anything, when the file is not the committed
   *   length (another writer appended to it or cut it): the file is left as it is.
   */
  async append(bytes: Uint8Array): Promise<void> {
    let size: number;
    try {
      size = (await call<fs.Stats>((done) => fs.fstat(this.#fd, done))).size;
    } catch (error) {
      throw ioError('stat', this.file, error);
    }
    if (size !== this.#length)
      throw new CorruptDataError(
        this.file,
        `it is ${size} bytes long where this store committed ${this.#length}: another writer changed it ` +
          '(one writer per folder); nothing was written',
      );
    try {
      let written = 0;
      while (written < bytes.byteLength) {
        written += await call<number>((done) =>
          fs.write(this.#fd, bytes, written, bytes.byteLength - written, this.#length + written, done),
        );
      }
      await call((done) => fs.fdatasync(this.#fd, done));
    } catch (error) {
      // Best effort: if this fails too, the reload after the failed write cuts the tail at open.
      await this.#cutTo(this.#length).catch(() => undefined);
      throw ioError('append to', this.file, error);
    }
    this.#length += bytes.byteLength;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await call((done) => fs.close(this.#fd, done)).catch(() => undefined);
  }
}
