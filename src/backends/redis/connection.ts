/**
 * The Redis connection of one storage instance: loads `ioredis` lazily, opens (or adopts) a
 * client, bounds every call by the command timeout and turns driver errors into typed errors
 * whose messages carry the redacted URL, never a password.
 */
import type { Redis } from 'ioredis';
import { BackendUnavailableError, CorruptDataError, StorageError } from '../../core/index.js';
import { redactUrl } from '../../core/index.js';
import { type RedisClient, type ResolvedRedisConfig } from './config.js';
import { type LuaScript, runScript } from './scripts.js';

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

// Server replies that mean "not available right now" rather than "bad request".
const UNAVAILABLE_REPLY =
  /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOAUTH|WRONGPASS|NOPERM)\b/;

/** Rejects with `onTimeout()` when `promise` has not settled after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One open client plus the rules for calling it. */
export class RedisConnection {
  /** Last error the client reported in the background (reconnect failures), for health. */
  lastError: string | undefined;

  private constructor(
    readonly client: RedisClient,
    /** True when this storage created the client (and so closes it). */
    private readonly owned: boolean,
    /** Redacted URL, or a description of the given client, for messages. */
    readonly label: string,
    private readonly commandTimeout: number,
  ) {}

  /** Connects to `config.url`, or adopts `config.client`. */
  static async open(config: ResolvedRedisConfig): Promise<RedisConnection> {
    if (config.client !== undefined) {
      const isCluster = (config.client as { isCluster?: boolean }).isCluster === true;
      return new RedisConnection(
        config.client,
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
      // Calls made while reconnecting wait in the offline queue, bounded by commandTimeout.
      enableOfflineQueue: true,
      maxRetriesPerRequest: 2,
      // A command in flight when the connection drops fails instead of being resent later.
      autoResendUnfulfilledCommands: false,
      enableAutoPipelining: true,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      connectionName: 'connectome-storage',
      // How long a closing socket may linger (the driver's default keeps a process alive 2 s).
      disconnectTimeout: 500,
    });
    const connection = new RedisConnection(client, true, label, config.commandTimeout);
    client.on('error', (error: Error) => {
      connection.lastError = error.message;
    });
    try {
      await withTimeout(
        client.connect(),
        config.connectTimeout + 1000,
        () => new Error(`connection not ready after ${config.connectTimeout} ms`),
      );
    } catch (error) {
      client.disconnect();
      throw new BackendUnavailableError(
        `redis storage: cannot connect to ${label}: ${(error as Error).message}`,
        error,
      );
    }
    return connection;
  }

  get isCluster(): boolean {
    return (this.client as { isCluster?: boolean }).isCluster === true;
  }

  /** Runs one call with the command timeout, mapping failures to typed errors that name `what`. */
  async run<T>(what: string, call: (client: RedisClient) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(
        call(this.client),
        this.commandTimeout,
        () => new Error(`no reply within ${this.commandTimeout} ms`),
      );
    } catch (error) {
      throw this.toStorageError(what, error);
    }
  }

  /** Runs a Lua script (see `scripts.ts`) like {@link run}. */
  script(what: string, script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    return this.run(what, (client) => runScript(client, script, keys, args));
  }

  /** Closes the client if this storage opened it; a given client stays open. */
  async close(): Promise<void> {
    if (!this.owned) return;
    const client = this.client;
    try {
      await withTimeout(client.quit(), 1000, () => new Error('quit timed out'));
    } catch {
      // Closing anyway below.
    } finally {
      client.disconnect();
    }
  }

  private toStorageError(what: string, error: unknown): StorageError {
    if (error instanceof StorageError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const text = `redis storage (${this.label}): ${what} failed: ${message}`;
    const isReply = error instanceof Error && error.name === 'ReplyError';
    if (isReply && message.startsWith('WRONGTYPE')) {
      return new CorruptDataError(`redis (${this.label})`, `${what}: ${message}`, error);
    }
    if (!isReply || UNAVAILABLE_REPLY.test(message)) return new BackendUnavailableError(text, error);
    return new StorageError(text, { cause: error });
  }
}
