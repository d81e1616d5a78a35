/**
 * The Redis connection of one storage instance: loads `ioredis` lazily, opens (or adopts) a
 * client, bounds every call by the command timeout and turns driver errors into typed errors
 * whose messages carry the redacted URL, never a password.
 */
import type { Redis } from 'ioredis';
import {
  BackendUnavailableError,
  ConfigError,
  CorruptDataError,
  NotInitializedError,
  StorageError,
} from '../../core/index.js';
import { logEvent, redactUrl } from '../../core/index.js';
import { CallGate, GateWaitEnded } from '../../core/call-gate.js';
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
import { closeClient, closeFailedClient } from './client-close.js';
import { newOwnClient } from './own-client.js';
import { describeRedisStore } from './layout-state.js';

/**
 * The calls a store may have sent and not yet had answered; more wait in its own FIFO, with no
 * timer (`core/call-gate.ts`). ioredis starts a command's `commandTimeout` when the command is
 * made, so a burst sent whole timed out behind itself on a healthy server (20,000 conversation
 * writes at once with a 2 s timeout: every call failed, and every write landed). A few hundred
 * keep the pipeline full (W4's 64 calls, a 64-conversation batch read's 256 commands) while a
 * call waits at most that many commands' time once sent.
 */
export const REDIS_CALLS_IN_FLIGHT = 256;

/** The stall message's words for a Redis store (see `CallGate`). */
const GATE_WORDING = {
  out: 'calls sent and waiting for their replies',
  cause: 'the server stopped answering, or a script kept it busy that long',
};

/** Whether a failed call got an answer from the server (a reply, if an error one): progress for the gate. */
const isReply = (error: unknown): boolean => error instanceof Error && error.name === 'ReplyError';

/** How messages name a client the application gave (no URL to show). */
export function givenClientLabel(client: object): string {
  return (client as { isCluster?: boolean }).isCluster === true
    ? 'given ioredis Cluster'
    : 'given ioredis client';
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
  /** At most {@link REDIS_CALLS_IN_FLIGHT} calls sent; the rest wait here, the stall watch bounding them. */
  private readonly gate: CallGate;

  private constructor(
    readonly client: IoredisClient,
    /** True when this storage created the client (and so closes it). */
    private readonly owned: boolean,
    /** Redacted URL, or a description of the given client, for messages. */
    readonly label: string,
    private readonly commandTimeout: number,
    /** The store as errors name it: {@link label} and the key prefix (see `describeRedisStore`). */
    private readonly store: string,
  ) {
    this.gate = new CallGate(REDIS_CALLS_IN_FLIGHT, commandTimeout, REDIS_CALLS_IN_FLIGHT, GATE_WORDING);
    const gate = this.gate;
    this.batcher = owned ? new TickBatcher(client as Redis, () => gate.noteSent()) : undefined;
    this.waiters = new ConnectionWaiters(client as Redis);
  }

  /** Connects to `config.url`, or adopts `config.client`. */
  static async open(config: ResolvedRedisConfig): Promise<RedisConnection> {
    if (config.client !== undefined) {
      const given = givenClientLabel(config.client);
      return new RedisConnection(
        // Checked for these members by the config; ioredis's full type stays out of the public one.
        config.client as unknown as IoredisClient,
        false,
        given,
        config.commandTimeout,
        describeRedisStore(given, config.keyPrefix),
      );
    }
    const label = redactUrl(config.url);
    const client = await newOwnClient(config);
    const store = describeRedisStore(label, config.keyPrefix);
    const connection = new RedisConnection(client, true, label, config.commandTimeout, store);
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
      // Until 2026-12-06 the rejection came with the socket still open (a database the server
      // refuses: listed by CLIENT LIST for a round trip or more after it).
      await closeFailedClient(client as Redis);
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
   * `what` (a function is called only for a failure). A call waits its turn first when
   * {@link REDIS_CALLS_IN_FLIGHT} calls are out, with no timer: the command timeout counts from
   * the sending. On a client this storage opened, the call then waits for the connection (there
   * is no offline queue), and is never sent once the timeout has rejected it. Not an `async`
   * function: every call of the backend passes here, and a `then` costs less than an async
   * frame and its await.
   */
  run<T>(what: ValueName, call: (client: IoredisClient) => Promise<T>): Promise<T> {
    this.calls.enter();
    if (this.gate.tryTake()) return this.send(what, call);
    return this.gate.take().then(
      () => this.send(what, call),
      (error: unknown) => {
        this.calls.leave();
        throw this.waitEnded(what, error);
      },
    );
  }

  /** Sends a call that has its turn, and gives the turn back when it settles. */
  private send<T>(what: ValueName, call: (client: IoredisClient) => Promise<T>): Promise<T> {
    let reply: Promise<T>;
    try {
      if (this.batcher !== undefined && this.client.status === 'ready') {
        // Fast path: the client's own `commandTimeout` bounds the call from its sending at the
        // tick's end, and with no offline queue nothing is sent late; no timer of ours per
        // call (it halved cache throughput).
        reply = this.batcher.send(call as (client: Redis) => Promise<T>);
      } else {
        reply = this.attempt(call);
      }
    } catch (error) {
      reply = Promise.reject(error as Error);
    }
    return reply.then(this.settledOk, (error: unknown) => {
      this.gate.give(isReply(error));
      this.calls.leave();
      throw this.toStorageError(what, error);
    });
  }

  /** Counts a call out (one handler for every call that succeeds: no closure per call). */
  private readonly settledOk = <T>(value: T): T => {
    this.gate.give(true);
    this.calls.leave();
    return value;
  };

  /** The error of a call whose wait for its turn ended without one: a stall, or a closed store. */
  private waitEnded(what: ValueName, error: unknown): Error {
    if (!(error instanceof GateWaitEnded)) return this.toStorageError(what, error);
    if (error.kind === 'closed') return new NotInitializedError('redis', 'a call', 'closed', this.store);
    return new BackendUnavailableError(
      `redis storage (${this.label}): ${valueNameText(what)} failed: ${error.message}`,
      error.cause ?? error,
    );
  }

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
      if (this.batcher !== undefined) return this.batcher.send(call as (client: Redis) => Promise<T>);
      this.gate.noteSent();
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
    this.gate.close('closed');
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
