/**
 * Test helpers that run real `redis-server` processes on free loopback ports: a standalone
 * server that can be stopped and restarted on the same port, and a 3-master Redis Cluster.
 * Every process started here is killed on `stop()` and, as a backstop, when the process exits.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis, { type Cluster } from 'ioredis';

const run = promisify(execFile);
export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
export const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when nothing listens on 127.0.0.1:`port`. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The kernel's ephemeral port range (Linux's default where it cannot be read). */
function ephemeralPorts(): [low: number, high: number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (Number.isInteger(Number(low)) && Number.isInteger(Number(high))) return [Number(low), Number(high)];
  } catch {
    // Not Linux: assume its default.
  }
  return [32768, 60999];
}

/**
 * A free loopback port whose cluster bus port (+10000) is free too, both outside the ephemeral
 * range: a server binds its port some time after this check (a spawn, a restart after a stop),
 * and meanwhile any process's outgoing connection (or listen(0)) may be given an ephemeral
 * port, which the server then fails to bind.
 */
export async function freePort(): Promise<number> {
  const [low, high] = ephemeralPorts();
  const ephemeral = (port: number) => port >= low && port <= high;
  const candidates: number[] = [];
  for (let port = 10000; port + 10000 <= 65535; port += 1) {
    if (!ephemeral(port) && !ephemeral(port + 10000)) candidates.push(port);
  }
  for (let attempt = 0; attempt < 200 && candidates.length > 0; attempt += 1) {
    const port = candidates[Math.floor(Math.random() * candidates.length)] as number;
    if ((await isPortFree(port)) && (await isPortFree(port + 10000))) return port;
  }
  throw new Error(`no free port found outside the ephemeral range ${low}-${high}`);
}

/** Resolves to a reason string when `redis-server` / `redis-cli` cannot be run here. */
export async function redisBinariesMissing(): Promise<string | null> {
  try {
    await run(REDIS_SERVER, ['--version']);
    await run(REDIS_CLI, ['--version']);
    return null;
  } catch (error) {
    return `${REDIS_SERVER} / ${REDIS_CLI} not runnable: ${(error as Error).message}`;
  }
}

/** Polls `check` until it resolves true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function pings(port: number): Promise<boolean> {
  const { stdout } = await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), 'ping']);
  // A server with requirepass answers NOAUTH: it is up all the same.
  return stdout.trim() === 'PONG' || stdout.includes('NOAUTH');
}

/** One `redis-server` process on a fixed port; `start()` again after `stop()` reuses the port. */
export class RedisServerProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly extraArgs: string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn(REDIS_SERVER, [...args, '--daemonize', 'no', ...this.extraArgs], { stdio: 'ignore' });
    children.add(child);
    child.once('exit', () => children.delete(child));
    this.child = child;
    await waitFor(`redis-server on port ${this.port}`, () => pings(this.port));
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * A 3-master Redis Cluster on free loopback ports, in a temp dir removed on `stop()`; with
 * `replicas: 1`, each master has one replica (`servers` 3..5), for failovers.
 */
export class RedisClusterProcesses {
  readonly servers: RedisServerProcess[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'connectome-redis-cluster-'));

  /**
   * `nodeArgs(i)`: extra `redis-server` arguments of node `i` (none by default; masters are
   * 0..2, their replicas 3..5); `replicas`: replicas per master, 0 or 1.
   */
  constructor(
    private readonly nodeArgs: (i: number) => string[] = () => [],
    private readonly replicas: 0 | 1 = 0,
  ) {}

  /**
   * Starts the nodes, joins them and waits for `cluster_state:ok` on each; fails naming the
   * binaries when `redis-server` / `redis-cli` cannot be run (a suite needing them fails loudly).
   */
  async start(): Promise<void> {
    const missing = await redisBinariesMissing();
    if (missing) throw new Error(missing);
    for (let i = 0; i < 3 * (1 + this.replicas); i += 1) {
      const port = await freePort();
      const conf = join(this.dir, `nodes-${port}.conf`);
      const args = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        conf,
        '--dir',
        this.dir,
        // A replica that never synced may not take over (its data is "too old"): sync at once.
        '--repl-diskless-sync-delay',
        '0',
        ...this.nodeArgs(i),
      ];
      const server = new RedisServerProcess(port, args);
      this.servers.push(server);
      await server.start();
    }
    const addresses = this.servers.map((s) => `127.0.0.1:${s.port}`);
    const replicas = String(this.replicas);
    await run(REDIS_CLI, [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      replicas,
      '--cluster-yes',
    ]);
    for (const server of this.servers) {
      await waitFor(`cluster_state:ok on ${server.port}`, async () => {
        const { stdout } = await run(REDIS_CLI, ['-p', String(server.port), 'cluster', 'info']);
        return stdout.includes('cluster_state:ok');
      });
    }
    for (const server of this.servers.slice(3)) {
      await waitFor(`replica on ${server.port} in sync`, async () => {
        const { stdout } = await run(REDIS_CLI, ['-p', String(server.port), 'info', 'replication']);
        return stdout.includes('master_link_status:up');
      });
    }
  }

  /** Start-up nodes for an ioredis `Cluster`. */
  get nodes(): Array<{ host: string; port: number }> {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every key under `prefix` on one node (SCAN MATCH with the prefix's glob characters escaped). */
export async function scanKeysWithPrefix(node: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const key of keys) found.add(key);
    cursor = next;
  } while (cursor !== '0');
  return [...found].sort();
}

/**
 * Keys unlinked per round. A command's timeout runs from when it is sent: thousands sent at
 * once (a test's whole search index, some 5,000 keys) wait behind each other, and on a loaded
 * machine the last ones outwait a cleanup client's 2 s.
 */
const UNLINK_ROUND = 500;

/**
 * Deletes every key under `prefix` with SCAN + UNLINK, on each master of a cluster (SCAN only
 * covers the node it runs on), {@link UNLINK_ROUND} keys at a time: one UNLINK for them on a
 * standalone server, one per key on a cluster, which refuses a cross-slot UNLINK.
 */
export async function deleteKeysWithPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  let deleted = 0;
  for (const node of nodes) {
    const keys = await scanKeysWithPrefix(node, prefix);
    for (let start = 0; start < keys.length; start += UNLINK_ROUND) {
      const round = keys.slice(start, start + UNLINK_ROUND);
      if (client.isCluster) await Promise.all(round.map((key) => node.unlink(key)));
      else await node.unlink(...round);
    }
    deleted += keys.length;
  }
  return deleted;
}

/** Opens a plain ioredis client that gives up quickly (for probes and cleanup). */
export function quickClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
}

/**
 * Registers hooks that start a private `redis-server` on a free port before the tests and
 * stop it afterwards, once `beforeStop` (closing the tests' clients) has run. Returns a getter.
 */
export function usePrivateRedisServer(
  beforeStop: () => Promise<void> = async () => undefined,
): () => RedisServerProcess {
  let server: RedisServerProcess | undefined;
  beforeAll(async () => {
    const missing = await redisBinariesMissing();
    if (missing) throw new Error(missing);
    server = new RedisServerProcess(await freePort());
    await server.start();
  });
  afterAll(async () => {
    await beforeStop();
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('private redis-server used outside its tests');
    return server;
  };
}
