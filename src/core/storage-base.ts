/**
 * The part of the storage interface that is about the store rather than its records: the
 * open/close lifecycle, the read-only flag, the health check, and the guard that refuses calls
 * while the store is not open. `StorageInterface` adds the record methods on top.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type RecordName, refuseTooLong } from './batch-text.js';
import { describeValue, NotInitializedError, ReadOnlyError } from './errors.js';
import { StoreLifecycle } from './lifecycle.js';
import { redactUrlsInJson, redactUrlsInText } from './redact.js';
import { type InspectFunction, inspectView, type StoreView, storeView } from './shown-store.js';
import type { HealthProbe, HealthReport } from './records.js';
import { StoragePrimitives } from './storage-primitives.js';
import { nowTimestamp } from './time.js';

// Node 20 has `Symbol.asyncDispose`; older 20.x builds may not. Define it once, as TypeScript's
// docs suggest, so `await using` works everywhere the library runs.
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol('Symbol.asyncDispose');

/**
 * The store whose accepted call the current async context is a step of (see
 * {@link StorageBase.runSteps}): a call made of other public calls (a semantic write embeds, then
 * writes its record through the plain write path) must still be able to make them once a
 * `shutdown()` has begun, since that shutdown waits for the call.
 */
const stepsOf = new AsyncLocalStorage<StorageBase>();

/**
 * The message of whatever a health probe threw. Reading it may run the thrower's code (a
 * `message` getter, a `toString`), which may throw too: `healthCheck()` must still resolve.
 */
function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return describeValue(error);
  }
}

/** Lifecycle, read-only flag and health check of a store; extend `StorageInterface`, not this. */
export abstract class StorageBase extends StoragePrimitives {
  /** Backend name as registered in the factory, e.g. `file`. */
  abstract readonly storageType: string;

  private readonly lifecycle = new StoreLifecycle({
    open: async () => {
      await this.openStore();
      try {
        await this.openAttachments();
      } catch (error) {
        // The store opened but what a layer attaches to it did not: close it again, so a
        // failed initialize() holds no connection, lock or file.
        await this.closeStore().catch(() => undefined);
        throw error;
      }
    },
    close: async () => {
      try {
        await this.closeAttachments();
      } finally {
        await this.closeStore();
      }
    },
  });

  /**
   * Opens the backend (creates folders, tables, connections). Safe to call twice. A read-only
   * instance opens only an existing store: a missing one rejects with `StoreNotFoundError`.
   * Called while a `shutdown()` is in progress, it waits for the close to finish and then opens
   * anew: `initialize()` and `shutdown()` take effect in the order they are called.
   */
  async initialize(): Promise<boolean> {
    await this.lifecycle.open();
    return true;
  }

  /**
   * Closes the backend after the calls already accepted (including a running `healthCheck()`)
   * have finished; later calls fail with {@link NotInitializedError} until `initialize()`.
   */
  async shutdown(): Promise<boolean> {
    await this.lifecycle.close();
    return true;
  }

  /** Alias of {@link shutdown}, the name most Node resources use. */
  close(): Promise<boolean> {
    return this.shutdown();
  }

  /** Shuts the store down at the end of an `await using storage = ...` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /** True between `initialize()` and `shutdown()`. */
  get isInitialized(): boolean {
    return this.lifecycle.state === 'open';
  }

  /**
   * True when this instance was configured `readOnly`: it opens only an existing store, never
   * creates, upgrades or changes anything, and every write rejects with `ReadOnlyError`.
   * A backend that supports read-only opens overrides this from its config.
   */
  get isReadOnly(): boolean {
    return false;
  }

  /**
   * Opens what a layer above the backend attaches to the store (the semantic layer's vector
   * store), right after the backend's `openStore()`; a rejection fails `initialize()`. Default: nothing.
   */
  protected openAttachments(): Promise<void> {
    return Promise.resolve();
  }

  /** Closes what {@link openAttachments} opened, before the backend's `closeStore()`. Default: nothing. */
  protected closeAttachments(): Promise<void> {
    return Promise.resolve();
  }

  /** The store as error messages name it (a path, a redacted URL with prefix or schema). */
  protected describeStore(): string {
    return this.storageType;
  }

  // ----- printing ------------------------------------------------------------------------

  /**
   * What `JSON.stringify(storage)` writes: the backend type, whether the store is open, and its
   * `config` (when it has one) with secrets masked: URL passwords, secret-looking query values,
   * fields named like a password, token, secret or key, and clients, pools and loggers named by
   * their class only. Until 2026-12-06 every field was written, the URL's password included.
   */
  toJSON(): StoreView {
    let config: unknown;
    try {
      // Read structurally, as `searchFields` is: every built-in backend keeps one `config`.
      config = (this as { config?: unknown }).config;
    } catch {
      config = undefined; // a registered backend's getter that throws: printing never throws
    }
    return storeView(this.storageType, this.isInitialized, config);
  }

  /** What `console.log(storage)` and `util.inspect(storage)` show: {@link toJSON}'s view, under the class name. */
  [Symbol.for('nodejs.util.inspect.custom')](
    depth: number | null,
    options: object,
    inspect?: InspectFunction,
  ): string {
    return inspectView(this.constructor.name, this.toJSON(), depth, options, inspect);
  }

  // ----- health --------------------------------------------------------------------------

  /** Reports whether the backend works; never rejects (problems are in `status` and `error`). */
  async healthCheck(): Promise<HealthReport> {
    const started = performance.now();
    const base = { storage_type: this.storageType, timestamp: nowTimestamp() };
    if (!this.isInitialized) {
      return { status: 'error', ...base, latency_ms: 0, error: this.notOpenReason().health };
    }
    try {
      // Tracked like any call, so a shutdown() waits for it instead of closing under it.
      const probe: HealthProbe = await this.lifecycle.track(this.probeHealth());
      // A registered backend's probe may quote its connection URL: no password in the report.
      const status = probe.healthy ? 'healthy' : 'unhealthy';
      const latency = Math.round((performance.now() - started) * 1000) / 1000;
      const core = { status, ...base, latency_ms: latency } as const;
      const report: HealthReport = { ...core, ...redactUrlsInJson(probe.details) };
      // The core keys win over details of the same name (a registered backend's `status: 'ok'`
      // would make the status none of the three); set again, they keep their place first.
      Object.assign(report, core);
      if (probe.error !== undefined) report.error = redactUrlsInText(probe.error);
      if (this.isReadOnly) report.read_only = true;
      return report;
    } catch (error) {
      return {
        status: 'error',
        ...base,
        latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
        error: redactUrlsInText(messageOf(error)),
      };
    }
  }

  // ----- shared helpers ------------------------------------------------------------------

  /** Throws {@link NotInitializedError} unless the backend is open. */
  protected ensureOpen(method: string): void {
    if (this.isInitialized) return;
    // A step of a call accepted before the shutdown began: the close waits for that call, so
    // it must be able to finish (checked only here, off the path of an open store).
    if (this.lifecycle.state === 'closing' && stepsOf.getStore() === this) return;
    throw new NotInitializedError(this.storageType, method, this.notOpenReason().error, this.shownStore());
  }

  /**
   * {@link describeStore} for an error being thrown (built only then, off the path of an open
   * store); the type alone when a registered backend's description throws, so the error thrown
   * is still the one the caller is told.
   */
  protected shownStore(): string {
    try {
      return this.describeStore();
    } catch {
      return this.storageType;
    }
  }

  /**
   * Runs `steps`, the body of an accepted (tracked) call that makes other public calls of this
   * store: those calls are let through while a `shutdown()` waits for it, instead of being
   * refused half way as calls made after the shutdown began.
   */
  protected runSteps<T>(steps: () => Promise<T>): Promise<T> {
    return stepsOf.run(this, steps);
  }

  /** Why the store is not open: never opened yet (or still opening), or shut down (or closing). */
  private notOpenReason(): { error: 'new' | 'closed'; health: string } {
    const state = this.lifecycle.state;
    return state === 'new' || state === 'opening'
      ? { error: 'new', health: 'not initialized' }
      : { error: 'closed', health: 'shut down' };
  }

  /** Tracks a call so a `shutdown()` waits for it instead of closing under it. */
  protected trackCall<T>(call: Promise<T>): Promise<T> {
    return this.lifecycle.track(call);
  }

  /**
   * Runs a primitive for public `method`: refused unless open, awaited by `shutdown()`. Not
   * an `async` function (one promise less per call), so it catches a synchronous throw itself:
   * every failure is a rejection, never a throw.
   */
  protected run<T>(method: string, primitive: () => Promise<T>): Promise<T> {
    try {
      this.ensureOpen(method);
      return this.trackCall(primitive());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * {@link run} for a public method that writes (stores, deletes, purges): a read-only
   * instance refuses it with {@link ReadOnlyError} before any I/O. Every write goes through
   * here, so a registered backend that reports {@link isReadOnly} is protected too. With
   * `record` (called only on a failure, so that a call builds no names it does not need), a
   * record too large for one string is a `ValidationError` naming it ({@link refuseTooLong}).
   */
  protected runWrite<T>(method: string, primitive: () => Promise<T>, record?: () => RecordName): Promise<T> {
    try {
      if (this.isReadOnly) throw new ReadOnlyError(this.storageType, method, this.describeStore());
    } catch (error) {
      // `isReadOnly` and `describeStore` may be a registered backend's code: reject, never throw.
      return Promise.reject(error as Error);
    }
    const result = this.run(method, primitive);
    if (record === undefined) return result;
    // A record too large for one string fails in the backend's JSON.stringify, before its write.
    return result.catch((error: unknown) => Promise.reject(refuseTooLong(error, method, record()) as Error));
  }
}
