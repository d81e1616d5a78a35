/**
 * Instances of Node classes that are not globals, for the validation suite: JSON.stringify
 * writes each as `{}` or as its internals (an EventEmitter's `_events`, a stream's
 * `_readableState`), and until 2026-12-03 they were stored so. Each is a real instance; those
 * holding a file descriptor or a thread come with the release that frees it.
 */
import { AsyncLocalStorage, AsyncResource, createHook } from 'node:async_hooks';
import { ChildProcess } from 'node:child_process';
import { createCipheriv, createECDH, createHash, createSecretKey } from 'node:crypto';
import { channel, type TracingChannel, tracingChannel } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { createReadStream, opendirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { DefaultSerializer, Deserializer, Serializer } from 'node:v8';
import { Script } from 'node:vm';
import { Worker } from 'node:worker_threads';

/** A value for a test, and how to free what it holds (awaited after the test's checks). */
export interface HeldValue {
  value: unknown;
  release?: () => unknown;
}

/** A user class built on EventEmitter: JSON writes its `_events` and `_eventsCount` beside `name`. */
class Agent extends EventEmitter {
  name = 'a1';
}

/** A file stream, released once its descriptor is closed. */
function fileStream(): HeldValue {
  const stream = createReadStream(process.execPath);
  return {
    value: stream,
    release: () => new Promise<void>((resolve) => stream.destroy().once('close', () => resolve())),
  };
}

/** A decoder holding half a character: JSON writes only its encoding. */
function halfDecoded(): StringDecoder {
  const decoder = new StringDecoder('utf8');
  decoder.write(Buffer.from([0xe2, 0x82]));
  return decoder;
}

/** A tracing channel with subscribers (its channels then active), or `part` of it; released by unsubscribing. */
function subscribedTracing(part: (tracing: TracingChannel<unknown, object>) => unknown): HeldValue {
  const tracing = tracingChannel('connectome-storage:test:tracing:subscribed');
  const ignore = (): void => undefined;
  const handlers = { start: ignore, end: ignore, asyncStart: ignore, asyncEnd: ignore, error: ignore };
  tracing.subscribe(handlers);
  return { value: part(tracing), release: () => tracing.unsubscribe(handlers) };
}

const message = (): IncomingMessage => new IncomingMessage(new Socket());

/** Each case by the class it shows; the value is refused, naming its own path. */
export const NODE_CLASS_VALUES: Record<string, () => HeldValue | Promise<HeldValue>> = {
  EventEmitter: () => ({ value: new EventEmitter() }),
  'EventEmitter subclass with data fields': () => ({ value: new Agent() }),
  'stream.Readable': () => ({ value: new Readable() }),
  'stream.PassThrough': () => ({ value: new PassThrough() }),
  'net.Socket': () => ({ value: new Socket() }),
  'http.IncomingMessage': () => ({ value: message() }),
  'http.ServerResponse': () => ({ value: new ServerResponse(message()) }),
  'http.Server': () => ({ value: createServer() }),
  'child_process.ChildProcess': () => ({ value: new ChildProcess() }),
  'worker_threads.Worker': () => {
    const worker = new Worker('', { eval: true });
    return { value: worker, release: () => worker.terminate() };
  },
  'fs.ReadStream': fileStream,
  'readline.Interface': () => {
    const lines = createInterface({ input: new PassThrough() });
    return { value: lines, release: () => lines.close() };
  },
  'crypto.Hash': () => ({ value: createHash('sha256').update('a') }),
  'crypto.Cipheriv': () => ({ value: createCipheriv('aes-128-cbc', Buffer.alloc(16), Buffer.alloc(16)) }),
  'crypto.KeyObject': () => ({ value: createSecretKey(Buffer.from('secret')) }),
  'crypto.ECDH': () => ({ value: createECDH('prime256v1') }),
  'fs.Dir': () => {
    const dir = opendirSync(tmpdir());
    return { value: dir, release: () => dir.closeSync() };
  },
  'fs.promises FileHandle': async () => {
    const handle = await open(process.execPath);
    return { value: handle, release: () => handle.close() };
  },
  'net.BlockList': () => {
    const list = new BlockList();
    list.addAddress('10.0.0.1');
    return { value: list };
  },
  'vm.Script': () => ({ value: new Script('1 + 1') }),
  AsyncLocalStorage: () => ({ value: new AsyncLocalStorage<number>() }),
  AsyncResource: () => ({ value: new AsyncResource('job') }),
  PerformanceObserver: () => ({ value: new PerformanceObserver(() => undefined) }),
  StringDecoder: () => ({ value: halfDecoded() }),
  // JSON writes a channel as `{ name }`; a subscribed one as its `_subscribers` and `_stores`.
  'diagnostics_channel.Channel': () => ({ value: channel('connectome-storage:test') }),
  'subscribed diagnostics_channel.Channel': () => {
    const subscribed = channel('connectome-storage:test:subscribed');
    const listener = (): void => undefined;
    subscribed.subscribe(listener);
    return { value: subscribed, release: () => subscribed.unsubscribe(listener) };
  },
  // JSON writes a tracing channel as `{}` (its channels are not enumerable), subscribed or not.
  'diagnostics_channel.TracingChannel': () => ({ value: tracingChannel('connectome-storage:test:tracing') }),
  'subscribed diagnostics_channel.TracingChannel': () => subscribedTracing((tracing) => tracing),
  'channel of a subscribed diagnostics_channel.TracingChannel': () =>
    subscribedTracing((tracing) => tracing.asyncEnd),
  'v8.Serializer': () => {
    const serializer = new Serializer();
    serializer.writeHeader();
    return { value: serializer };
  },
  'v8.DefaultSerializer': () => ({ value: new DefaultSerializer() }),
  // JSON writes its buffer, not how far it was read.
  'v8.Deserializer': () => ({ value: new Deserializer(Buffer.from([0xff, 0x0f])) }),
  'async_hooks hook': () => ({ value: createHook({}) }),
  // JSON writes a cleared (or run) timer as its list fields: `_idleTimeout`, `_onTimeout: null`, …
  'cleared Timeout': () => {
    const timer = setTimeout(() => undefined, 60_000);
    clearTimeout(timer);
    return { value: timer };
  },
  'cleared Immediate': () => {
    const immediate = setImmediate(() => undefined);
    clearImmediate(immediate);
    return { value: immediate };
  },
  'pending Timeout': () => {
    const timer = setTimeout(() => undefined, 60_000);
    return { value: timer, release: () => clearTimeout(timer) };
  },
};
