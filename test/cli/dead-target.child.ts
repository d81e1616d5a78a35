/**
 * The CLI with a `dying-redis` backend, for `dead-target.test.ts`: a Redis target whose server
 * is shut down (`SHUTDOWN NOSAVE`) when the migration writes its first conversation, after the
 * resume marker; that write then fails as a lost connection would.
 */
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { RedisStorage, type RedisStorageConfig } from '../../src/backends/redis/index.js';
import { runMain } from '../../src/cli/main.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { StorageFactory } from '../../src/factory/index.js';

const port = Number(process.env.DEAD_TARGET_PORT);

/** True once nothing listens on the server's port any more. */
function refused(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function killServer(): Promise<never> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined); // the server closes instead of replying
  client.disconnect();
  while (!(await refused())) await new Promise((resolve) => setTimeout(resolve, 20));
  throw new BackendUnavailableError('the target server shut down mid-copy');
}

class DyingRedisStorage extends RedisStorage {
  constructor(config: RedisStorageConfig = {}) {
    // Ten minutes: a call that waits for the dead server holds the run that long.
    super({ ...config, commandTimeout: 600_000 });
  }

  override storeConversationBatch(): Promise<never> {
    return killServer();
  }

  override storeConversation(): Promise<never> {
    return killServer();
  }
}

StorageFactory.registerBackend('dying-redis', DyingRedisStorage, { override: true });
runMain(process.argv.slice(2));
