/**
 * A loopback TCP proxy in front of a server that can turn into a black hole: every byte
 * either way is then held back without closing a socket (a network path gone dead, no FIN,
 * no RST, nor a close of the other side), and new connections are accepted but never
 * answered. `heal()` forwards again.
 */
import { createConnection, type Socket } from 'node:net';
import { LoopbackProxyBase } from './loopback-proxy.js';

/** One proxy on a free loopback port. */
export class BlackholeProxy extends LoopbackProxyBase {
  private dead = false;
  /** The forwarded pairs, each dead for good once a black hole caught it. */
  private readonly pairs = new Set<{ dead: boolean }>();

  private constructor(private readonly target: number) {
    // Half-open: a dead path answers no FIN either, so a client's end of a connection caught in
    // the black hole leaves its socket open (as a real dead path does) until it destroys it.
    super((client) => this.accept(client), true);
  }

  /** Starts a proxy to 127.0.0.1:`target`. */
  static async start(target: number): Promise<BlackholeProxy> {
    const proxy = new BlackholeProxy(target);
    await proxy.listen();
    return proxy;
  }

  /** From now on nothing passes, and no socket is closed. */
  blackhole(): void {
    this.dead = true;
    for (const pair of this.pairs) pair.dead = true;
  }

  /** New connections are forwarded again (the ones held in the black hole stay dead). */
  heal(): void {
    this.dead = false;
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.dead) return;
    const upstream = createConnection(this.target, '127.0.0.1');
    this.track(upstream);
    const pair = { dead: false };
    this.pairs.add(pair);
    // Forwarded chunk by chunk, so a black hole holds back what arrives after it opened.
    client.on('data', (chunk) => {
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.dead) client.write(chunk);
    });
    // A dead path carries no FIN or RST either: a side closed meanwhile (the server ending an
    // idle transaction, the driver giving up) stays unseen by the other until close().
    client.on('end', () => {
      if (!pair.dead) upstream.end();
    });
    client.on('close', () => {
      if (!pair.dead) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!pair.dead) client.destroy();
    });
    client.on('close', () => this.pairs.delete(pair));
  }
}
