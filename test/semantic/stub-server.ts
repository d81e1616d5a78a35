/** A tiny HTTP server on loopback that a test scripts, standing in for an embedding service. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stub received. */
export interface StubRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** Answers one request; may never answer (to test timeouts). */
export type StubHandler = (request: StubRequest, response: ServerResponse) => void;

/** A running stub. */
export interface Stub {
  url: string;
  requests: StubRequest[];
  handle: StubHandler;
  close(): Promise<void>;
}

/** Sends `body` as JSON with `status`. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Starts a stub on 127.0.0.1, on `port` or a free one; `handle` can be replaced per test. */
export async function startStub(handle: StubHandler, port = 0): Promise<Stub> {
  const stub: Stub = { url: '', requests: [], handle, close: async () => undefined };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the raw text
      }
      const recorded = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      };
      stub.requests.push(recorded);
      stub.handle(recorded, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}
