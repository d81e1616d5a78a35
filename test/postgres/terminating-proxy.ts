/**
 * A loopback TCP proxy in front of a PostgreSQL server that, once armed, ends each new
 * connection the way `pg_terminate_backend` does right after the connection started up: the
 * server's `ReadyForQuery` and a FATAL `57P01` error reach the client in one socket write, so
 * the driver hands the connection over and hears its termination in the same turn.
 */
import { createConnection, type Socket } from 'node:net';
import { LoopbackProxyBase } from './loopback-proxy.js';

/** The ErrorResponse a backend sends when it is terminated by an administrator. */
function terminationMessage(): Buffer {
  const fields = [
    ['S', 'FATAL'],
    ['V', 'FATAL'],
    ['C', '57P01'],
    ['M', 'terminating connection due to administrator command'],
  ];
  const body = Buffer.concat([
    ...fields.map(([type, text]) => Buffer.from(`${type}${text}\0`, 'utf8')),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** End of the first `ReadyForQuery` message in `bytes` (server messages from the start), or -1. */
function readyForQueryEnd(bytes: Buffer): number {
  let at = 0;
  while (at + 5 <= bytes.length) {
    const end = at + 1 + bytes.readInt32BE(at + 1);
    if (end > bytes.length) return -1;
    if (bytes[at] === 0x5a /* 'Z' */) return end;
    at = end;
  }
  return -1;
}

/** One proxy on a free loopback port. */
export class TerminatingProxy extends LoopbackProxyBase {
  private armed = false;
  /** Connections ended after their start-up so far. */
  terminated = 0;

  private constructor(private readonly target: number) {
    super((client) => this.accept(client));
  }

  /** Starts a proxy to 127.0.0.1:`target`. */
  static async start(target: number): Promise<TerminatingProxy> {
    const proxy = new TerminatingProxy(target);
    await proxy.listen();
    return proxy;
  }

  /** Ends every connection made from now on right after its start-up (`false`: forwards again). */
  arm(on = true): void {
    this.armed = on;
  }

  /** Closes every open connection (both sides), armed or not. */
  dropAll(): void {
    this.destroySockets();
  }

  private accept(client: Socket): void {
    this.track(client);
    const upstream = createConnection(this.target, '127.0.0.1');
    this.track(upstream);
    const terminate = this.armed;
    let startup: Buffer | null = terminate ? Buffer.alloc(0) : null;
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (startup === null) {
        client.write(chunk);
        return;
      }
      // Held until the start-up's ReadyForQuery, then sent with the termination in one write.
      startup = Buffer.concat([startup, chunk]);
      const end = readyForQueryEnd(startup);
      if (end < 0) return;
      client.end(Buffer.concat([startup.subarray(0, end), terminationMessage()]));
      startup = null;
      this.terminated += 1;
      upstream.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      if (startup !== null || !terminate) client.destroy();
    });
  }
}
