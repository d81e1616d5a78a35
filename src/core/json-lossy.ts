/**
 * The built-in objects `JSON.stringify` would store unfaithfully: their data lives in internal
 * slots, not in enumerable properties, so JSON writes `{}` (or only the fields added to them).
 * The value converter (`json.ts`) refuses them instead of silently emptying them (D4): those of
 * the language and the web platform, and instances of Node classes that are not globals.
 */
import { AsyncLocalStorage, AsyncResource, createHook } from 'node:async_hooks';
import { DiffieHellman, DiffieHellmanGroup, ECDH, KeyObject } from 'node:crypto';
import { Channel, channel, tracingChannel } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { Dir } from 'node:fs';
import { BlockList } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { clearImmediate, clearTimeout, setImmediate, setTimeout } from 'node:timers';
import { Deserializer, Serializer } from 'node:v8';
import { Script } from 'node:vm';

/**
 * Prototype of each refused built-in, with the name an error gives it. Keyed by prototype so
 * one walk up a value's prototype chain finds any of them (and their subclasses).
 */
const LOSSY_PROTOTYPES = new Map<object, string>();

function addLossy(name: string, prototype: unknown): void {
  if (typeof prototype === 'object' && prototype !== null) LOSSY_PROTOTYPES.set(prototype, name);
}

/** The prototype of the constructor at `path` under `globalThis`, when this runtime has it. */
function globalPrototype(path: string): unknown {
  let value: unknown = globalThis;
  for (const part of path.split('.')) {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'function' ? (value as { prototype?: unknown }).prototype : undefined;
}

for (const cls of [
  Map,
  Set,
  WeakMap,
  WeakSet,
  RegExp,
  Promise,
  ArrayBuffer,
  SharedArrayBuffer,
  WeakRef,
  FinalizationRegistry,
  // Its message and stack are not enumerable: JSON keeps `{}`, or only the fields added to it.
  // One with a toJSON of its own (as some libraries give their errors) is converted by it.
  // DOMException is one too.
  Error,
  Date, // only reached when its toJSON was replaced or removed
]) {
  addLossy(cls.name, cls.prototype);
}

/**
 * Host classes of Node (and browsers) whose state JSON drops, by the path of their global:
 * looked up by name because a runtime may lack some. URL, Buffer and Performance entries have a
 * toJSON and are kept. EventTarget itself is not listed: it holds no data, and a subclass of it
 * may be a data class.
 */
export const HOST_CLASSES: readonly string[] = [
  'Blob', // and File
  'AbortSignal',
  'AbortController',
  'Event',
  'MessagePort',
  'MessageChannel',
  'BroadcastChannel',
  'URLSearchParams',
  'Headers',
  'Request',
  'Response',
  'FormData',
  'ReadableStream',
  'WritableStream',
  'TransformStream',
  'ReadableStreamDefaultReader',
  'ReadableStreamBYOBReader',
  'WritableStreamDefaultWriter',
  'TextDecoder',
  'CryptoKey',
  'Intl.Collator',
  'Intl.DateTimeFormat',
  'Intl.DisplayNames',
  'Intl.ListFormat',
  'Intl.Locale',
  'Intl.NumberFormat',
  'Intl.PluralRules',
  'Intl.RelativeTimeFormat',
  'Intl.Segmenter',
  'WebAssembly.Module',
  'WebAssembly.Instance',
  'WebAssembly.Memory',
  'WebAssembly.Table',
  'WebAssembly.Global',
];

/**
 * Host classes left for {@link resolveDeferred}: those whose global is still one of Node's lazy
 * accessors. Reading one loads its module (`Headers`, `Request`, `Response` and `FormData`
 * load undici: ~40 ms, the web streams ~6), which importing the library would otherwise pay
 * for values almost no caller stores.
 */
const deferredClasses: string[] = [];
for (const name of HOST_CLASSES) {
  if (isLazyGlobal(name)) deferredClasses.push(name);
  else addLossy(name, globalPrototype(name));
}

/** Whether the global at the head of `path` is an accessor not read yet (Node's lazy globals are). */
function isLazyGlobal(path: string): boolean {
  const head = path.split('.')[0] ?? path;
  return typeof Object.getOwnPropertyDescriptor(globalThis, head)?.get === 'function';
}

// Node classes that are not globals, whose state is in native handles or symbol-keyed fields:
// JSON writes `{}`, or internals that load back as junk (an emitter's `_events`, a stream's
// `_readableState`). The library's own modules load these built-in modules anyway. Not listed:
// fs.Dirent, whose name and folder are enumerable and kept; only its entry type (a symbol-keyed
// field) is lost, as README D4 says.
for (const cls of [
  // Everything built on it: streams, sockets, servers, HTTP messages, child processes, workers,
  // readline, zlib, crypto streams (Hash, Hmac, Cipheriv, Sign), `process`, FileHandle (Node 21+),
  // and a class of the caller's extending it (JSON would store its `_events` beside its fields).
  EventEmitter,
  KeyObject,
  ECDH,
  DiffieHellman,
  DiffieHellmanGroup,
  Dir,
  BlockList,
  Script,
  AsyncLocalStorage,
  AsyncResource, // and PerformanceObserver, which extends it (listed too in case a version does not)
  PerformanceObserver,
  StringDecoder, // JSON keeps its encoding, not the bytes of a character it has begun
  Channel, // JSON keeps its name only (nothing for a symbol's)
  Serializer, // and DefaultSerializer: JSON keeps nothing of what was written
  Deserializer, // JSON keeps its buffer, not the position read to
] as ReadonlyArray<{ readonly name: string; readonly prototype: unknown }>) {
  addLossy(cls.name, cls.prototype);
}
// Node 20 builds BlockList, FileHandle, X509Certificate and SocketAddress on an internal
// JSTransferable class; the last two have a toJSON (never reaching the walk), FileHandle keeps
// its descriptor in a native handle. Later versions have no such class.
const transferable: unknown = Object.getPrototypeOf(BlockList.prototype);
if (transferable !== Object.prototype && constructorName(transferable) === 'JSTransferable') {
  addLossy('JSTransferable', transferable);
}

// A subscribed Channel switches to another prototype, not exported (ActiveChannel, on Node 20
// not a subclass: JSON writes its `_subscribers` and `_stores`); the hook of `createHook` has no
// exported class either. One of each is made here to reach its prototype: a channel named by a
// fresh symbol (no one else's), subscribed and unsubscribed again; a hook never enabled.
const probe = channel(Symbol('json-lossy probe'));
probe.subscribe(noop);
addLossy('Channel', Object.getPrototypeOf(probe));
probe.unsubscribe(noop);
addLossy('AsyncHook', Object.getPrototypeOf(createHook({})));
// A TracingChannel (no exported class either) keeps its five channels in non-enumerable fields:
// JSON writes `{}`. One is made over the probe (not by name: that would register its channels).
const part = probe as Channel<unknown, object>;
const parts = { start: part, end: part, asyncStart: part, asyncEnd: part, error: part };
addLossy('TracingChannel', Object.getPrototypeOf(tracingChannel(parts)));

// Timers have no exported class: one of each is made and cleared here to reach its prototype
// (from node:timers, which fake timers in tests do not replace). JSON writes a run or cleared
// one as its list fields (`_idleTimeout`, `_onTimeout: null`, …); the name check keeps out a
// runtime whose timers are plain objects.
const timeout = setTimeout(noop, 0);
clearTimeout(timeout);
const immediate = setImmediate(noop);
clearImmediate(immediate);
for (const [name, timer] of [
  ['Timeout', timeout],
  ['Immediate', immediate],
] as const) {
  const prototype: unknown = Object.getPrototypeOf(timer);
  if (constructorName(prototype) === name) addLossy(name, prototype);
}

// Iterators and generators keep their position and source in internal slots. These
// prototypes have no global constructor: they are reached from instances.
const iteratorPrototype: unknown = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
addLossy('iterator', iteratorPrototype);
async function* asyncGenerator(): AsyncGenerator<never> {}
// async generator object → its function's prototype → %AsyncGeneratorPrototype% → %AsyncIteratorPrototype%
addLossy(
  'async iterator',
  Object.getPrototypeOf(Object.getPrototypeOf(Object.getPrototypeOf(asyncGenerator()))),
);

/** Whether the deferred prototypes were added (at the first value no other one named). */
let deferredAdded = false;

/**
 * Adds the deferred host classes and the `Intl.Segments` prototype (reached by segmenting, which
 * loads ICU's break rules: ~18 ms). Called once, at the first value no other prototype names (a
 * class instance or a host object), so a process that stores only plain records never pays it.
 */
function resolveDeferred(): void {
  deferredAdded = true;
  for (const name of deferredClasses) addLossy(name, globalPrototype(name));
  if (typeof Intl.Segmenter === 'function') {
    addLossy('Intl.Segments', Object.getPrototypeOf(new Intl.Segmenter('en').segment('')));
  }
}

function noop(): void {}

/** `prototype.constructor.name`, when it is a string. */
function constructorName(prototype: unknown): string | undefined {
  if (typeof prototype !== 'object' || prototype === null) return undefined;
  const name: unknown = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Name of the built-in `obj` is (or extends) whose data JSON would lose, or `undefined`.
 * A subclass is named by its constructor (`class Registry extends Map` → `Registry`).
 */
export function lossyBuiltInName(obj: object): string | undefined {
  const name = knownLossyName(obj);
  if (name !== undefined || deferredAdded) return name;
  // Plain objects and arrays never get here: this is a class instance or a host object, and
  // the first one a process stores is the time to resolve the deferred prototypes.
  resolveDeferred();
  return knownLossyName(obj);
}

/** {@link lossyBuiltInName} from the prototypes added so far. */
function knownLossyName(obj: object): string | undefined {
  let proto: unknown = Object.getPrototypeOf(obj);
  for (let depth = 0; proto !== null; depth += 1) {
    const name = LOSSY_PROTOTYPES.get(proto as object);
    if (name !== undefined) return depth === 0 ? name : (subclassName(obj) ?? name);
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}

/**
 * The name of `obj`'s class (`obj.constructor.name`), or its string tag (`Array Iterator`,
 * `Generator`) for built-ins whose constructor is `Object` or not a function.
 */
function subclassName(obj: object): string | undefined {
  const ctor: unknown = (obj as { constructor?: unknown }).constructor;
  if (typeof ctor === 'function' && ctor !== Object) {
    const name: unknown = (ctor as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  const tag = Object.prototype.toString.call(obj).slice('[object '.length, -1);
  return tag === 'Object' ? undefined : tag;
}
