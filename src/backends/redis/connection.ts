/**
 * The Redis connection of one storage instance: loads `ioredis` lazily, opens (or adopts) a
 * client, bounds every call by the command timeout and turns driver errors into typed errors
 * whose messages carry the redacted URL, never a password.
 */
import type { Redis } from 'ioredis';
import { BackendUnavailableError, ConfigError, CorruptDataError, StorageError } from '../../core/index.js';
import { logEvent, redactUrl } from '../../core/index.js';
import { type ValueName, valueNameText } from '../../core/shown-text.js';
import { InFlightCalls } from '../../core/in-flight.js';
import type { ResolvedRedisConfig } from './config.js';
import type { IoredisClient } from './ioredis-client.js';
import { type LuaScript, runScript } from './scripts.js';
import { ConnectionWaiters } from './connection-waiters.js';
import { replyErrorToStorageError } from './reply-errors.js';
import { runReadyCheck } from './ready-check.js';
import { TickBatcher } from './tick-batcher.js';
import { withTimeout } from '../../core/waits.js';
import { closeClient, DISCONNECT_TIMEOUT_MS } from './client-close.js';

type RedisClass = typeof Redis;

/** Loads `ioredis` on first use, so the library loads without it. */
async function loadIoredis(): Promise<RedisClass> {
  try {
    const mod = await import('ioredis');
    return mod.default;
  } catch (error) {
    throw new BackendUnavailableError(
      'The redis storage backend needs the "ioredis" package: npm install ioredis',
      error,
    );
  }
}

/** One open client plus the rules for calling it. */
export class RedisConnection {
  /** Last error the client reported in the background (reconnect failures), for health. */
  lastError: string | undefined;
  /** Calls started and not yet settled (a count, not a set: nothing allocated per call). */
  /** Calls in flight, which a {@link drain} waits out. */
  private readonly calls = new InFlightCalls();
  /** Calls waiting for the connection; one that gives up leaves at once (see `attempt`). */
  private readonly waiters: ConnectionWaiters;
  /** Sends the commands of one tick together (see `TickBatcher`); only on a client this storage opened. */
  private readonly batcher: TickBatcher | undefined;

  private constructor(
    readonly client: IoredisClient,
    /** True when this storage created the client (and so closes it). */
    private readonly owned: boolean,
    /** Redacted URL, or a description of the given client, for messages. */
    readonly label: string,
    private readonly commandTimeout: number,
  ) {
    this.batcher = owned ? new TickBatcher(client as Redis) : undefined;
    this.waiters = new ConnectionWaiters(client as Redis);
  }

  /** Connects to `config.url`, or adopts `config.client`. */
  static async open(config: ResolvedRedisConfig): Promise<RedisConnection> {
    if (config.client !== undefined) {
      const isCluster = (config.client as { isCluster?: boolean }).isCluster === true;
      return new RedisConnection(
        // Checked for these members by the config; ioredis's full type stays out of the public one.
        config.client as unknown as IoredisClient,
        false,
        isCluster ? 'given ioredis Cluster' : 'given ioredis client',
        config.commandTimeout,
      );
    }
    const RedisCtor = await loadIoredis();
    const label = redactUrl(config.url);
    const client = new RedisCtor(config.url, {
      lazyConnect: true,
      connectTimeout: config.connectTimeout,
      commandTimeout: config.commandTimeout,
      // No offline queue: a command queued while the connection is down stays queued after
      // its timeout rejected the call, and is sent on reconnect, so a write reported as
      // failed would land later, half done (its data without its index entry). Calls wait
      // for the connection in `run()` instead and give up before anything is sent.
      enableOfflineQueue: false,
      // A command in flight when the connection drops fails instead of being resent later.
      autoResendUnfulfilledCommands: false,
      // ...and fails at the drop: without this, ioredis drops such commands unsettled at the
      // reconnect, and each call waited out its whole commandTimeout (10 s by default) to fail
      // with "Command timed out" while the server was back in milliseconds.
      maxRetriesPerRequest: 0,
      // Commands go out as they are called, batched per tick by corking the socket (see
      // `TickBatcher`): the same one write per tick as auto-pipelining, without its pipeline
      // object, setImmediate hop and per-reply nextTick, which cost more client CPU per
      // command than the rest of a cache call.
      enableAutoPipelining: false,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      connectionName: 'connectome-storage',
      // Ours at the open instead (`ready-check.ts`): ioredis's warns on the console if INFO is denied.
      enableReadyCheck: false,
      // How long a closing socket may linger (the driver's default keeps a process alive 2 s).
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    });
    const connection = new RedisConnection(client, true, label, config.commandTimeout);
    client.on('error', (error: Error) => {
      connection.lastError = error.message;
    });
    try {
      await withTimeout(
        client.connect().then(() => runReadyCheck(client, label, config.logger)),
        config.connectTimeout + 1000,
        () => new Error(`connection not ready after ${config.connectTimeout} ms`),
      );
      await connection.checkDatabase();
      connection.reportBackgroundEvents(config);
    } catch (error) {
      client.disconnect();
      if (error instanceof ConfigError) throw error;
      // "Connection is closed." alone hides why (WRONGPASS, NOAUTH, ECONNREFUSED): name the
      // last error the client saw. Server replies and socket errors never carry the password.
      const message = (error as Error).message;
      const last = connection.lastError !== undefined && connection.lastError !== message;
      throw new BackendUnavailableError(
        `redis storage: cannot connect to ${label}: ${message}${last ? ` (${connection.lastError})` : ''}`,
        error,
      );
    }
    return connection;
  }

  /**
   * Selects the URL's database again, now to see the answer: ioredis sends its SELECT while
   * connecting and only emits the refusal (a database past the server's `databases`), so
   * the connection stayed on database 0 and every record went there.
   * @throws {ConfigError} (key `url`) when the server refuses the database.
   */
  private async checkDatabase(): Promise<void> {
    const db = (this.client as Redis).options.db;
    if (db === undefined || db === 0) return;
    try {
      await (this.client as Redis).select(db);
    } catch (error) {
      // A timeout or a lost connection is no answer: the caller reports it as unavailable.
      if ((error as Error).name !== 'ReplyError') throw error;
      throw new ConfigError(
        `redis storage: ${this.label} names database ${db}, which the server refuses: ${(error as Error).message}`,
        'url',
        error,
      );
    }
  }

  /**
   * Sends the background events of a client this storage opened to `config.logger`: connection
   * errors, reconnect attempts and the reconnect itself. (Errors before the first connect are
   * the open's own rejection, not logged.) A given client's events belong to its owner.
   */
  private reportBackgroundEvents(config: ResolvedRedisConfig): void {
    const { logger } = config;
    if (logger === undefined) return;
    let reconnecting = false;
    this.client.on('error', (error: Error) => {
      logEvent(logger, 'error', `redis storage: connection error on ${this.label}`, { error: error.message });
    });
    this.client.on('reconnecting', (delayMs: unknown) => {
      reconnecting = true;
      logEvent(logger, 'warn', `redis storage: connection to ${this.label} lost, reconnecting`, { delayMs });
    });
    this.client.on('ready', () => {
      if (!reconnecting) return;
      reconnecting = false;
      logEvent(logger, 'info', `redis storage: reconnected to ${this.label}`);
    });
  }

  /** True when the client is an ioredis `Cluster`. */
  get isCluster(): boolean {
    return (this.client as { isCluster?: boolean }).isCluster === true;
  }

  /**
   * Runs one call with the command timeout, mapping failures to typed errors that name
   * `what` (a function is called only for a failure). On a client this storage opened, the
   * call first waits for the connection (there is no offline queue), and is never sent once
   * the timeout has rejected it. Not an `async` function: every call of the backend passes
   * here, and a `then` costs less than an async frame and its await.
   */
  run<T>(what: ValueName, call: (client: IoredisClient) => Promise<T>): Promise<T> {
    this.calls.enter();
    let reply: Promise<T>;
    try {
      if (this.batcher !== undefined && this.client.status === 'ready') {
        // Fast path: the client's own `commandTimeout` bounds the call, and with no offline
        // queue nothing is sent late; no timer of ours per call (it halved cache throughput).
        this.batcher.hold();
        reply = call(this.client);
      } else {
        reply = this.attempt(call);
      }
    } catch (error) {
      reply = Promise.reject(error as Error);
    }
    return reply.then(this.settledOk, (error: unknown) => {
      this.calls.leave();
      throw this.toStorageError(what, error);
    });
  }

  /** Counts a call out (one handler for every call that succeeds: no closure per call). */
  private readonly settledOk = <T>(value: T): T => {
    this.calls.leave();
    return value;
  };

  /** A call while the connection is not ready (or on a given client): bounded by our own timer. */
  private attempt<T>(call: (client: IoredisClient) => Promise<T>): Promise<T> {
    let gaveUp = false;
    let wake: (() => void) | undefined;
    const send = async (): Promise<T> => {
      const status = this.client.status;
      if (this.owned && status !== 'ready' && status !== 'end') {
        await new Promise<void>((resolve) => this.waiters.add((wake = resolve)));
      }
      if (gaveUp) throw new Error('gave up before sending');
      this.batcher?.hold();
      return call(this.client);
    };
    return withTimeout(send(), this.commandTimeout, () => {
      gaveUp = true;
      // Nothing keeps this call once it gave up, however long the server stays away.
      if (wake !== undefined) this.waiters.remove(wake);
      return new Error(`no reply within ${this.commandTimeout} ms`);
    });
  }

  /** Calls waiting for the connection (for tests). */
  get waitingCalls(): number {
    return this.waiters.size;
  }

  /**
   * Waits until no call is in flight. A multi-step operation (data, then its index entry)
   * issues its next call in the microtasks after a reply, before any macrotask, so once a
   * `setImmediate` passes with nothing in flight, no accepted operation is left half done.
   */
  async drain(): Promise<void> {
    do {
      await this.calls.whenIdle();
      await new Promise((resolve) => setImmediate(resolve));
    } while (this.calls.count > 0);
  }

  /** Runs a Lua script (see `scripts.ts`) like {@link run}. */
  script(what: ValueName, script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    return this.run(what, (client) => runScript(client, script, keys, args));
  }

  /**
   * Lets every call in flight finish (each is bounded by the command timeout), then closes
   * the client if this storage opened it, resolving once its socket is closed; a given client
   * stays open.
   */
  async close(): Promise<void> {
    await this.drain();
    if (!this.owned) return;
    await closeClient(this.client as Redis);
  }

  /** The error of a call (`what`) that found corrupt data: as a `WRONGTYPE` reply becomes. */
  corrupt(what: ValueName, message: string, cause?: unknown): CorruptDataError {
    return new CorruptDataError(`redis (${this.label})`, `${valueNameText(what)}: ${message}`, cause);
  }

  /** The config key that picks the server's user: the URL's, or the given client's. */
  get credentialsKey(): 'url' | 'client' {
    return this.owned ? 'url' : 'client';
  }

  private toStorageError(what: ValueName, error: unknown): StorageError {
    return replyErrorToStorageError(error, {
      text: (message) => `redis storage (${this.label}): ${valueNameText(what)} failed: ${message}`,
      corrupt: (message) => this.corrupt(what, message, error),
      credentialsKey: this.credentialsKey,
    });
  }
}
