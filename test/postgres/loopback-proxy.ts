/**
 * What the loopback TCP proxies of the fault tests share: a server on a free loopback port,
 * and every socket either side opened, destroyed when the proxy closes.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** A proxy's listening server and the sockets it tracks. */
export class LoopbackProxyBase {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  /** The proxy's port (0 until started). */
  port = 0;

  /** With `allowHalfOpen`, a client's FIN is not answered by one of the proxy's own (see `BlackholeProxy`). */
  protected constructor(accept: (client: Socket) => void, allowHalfOpen = false) {
    this.server = createServer({ allowHalfOpen }, accept);
  }

  /** Listens on a free loopback port. */
  protected async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Destroys every socket and closes the proxy. */
  async close(): Promise<void> {
    this.destroySockets();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Destroys every socket either side opened so far. */
  protected destroySockets(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Tracks `socket` until it closes; its errors (a reset) are expected here. */
  protected track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
