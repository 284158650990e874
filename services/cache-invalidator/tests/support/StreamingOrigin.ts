import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What one path of the origin answers. */
export type Route =
  | { kind: 'page'; contentType: string; body: string; headers?: Record<string, string>; delayMs?: number }
  /** `bytes` of zeros in 1 MiB chunks (Content-Length with `declareLength`, else chunked); cut after `cutAfterBytes`. */
  | { kind: 'stream'; contentType: string; bytes: number; declareLength: boolean; cutAfterBytes?: number }
  | { kind: 'status'; status: number; headers?: Record<string, string> };

const CHUNK = Buffer.alloc(1024 * 1024);

/**
 * A site on 127.0.0.1 that stands in for Ghost behind the gate: pages, large files streamed as they
 * are read (never held in memory), and fixed answers (an always-500 post). It counts every request and
 * the bytes each path sent, and cuts a stream at its `cutAfterBytes`, so a reader without a size
 * bound shows as an overrun instead of exhausting the machine.
 */
export class StreamingOrigin {
  url = '';
  readonly requests: { method: string; path: string; headers: Record<string, string | string[] | undefined> }[] = [];
  readonly bytesSent = new Map<string, number>();
  readonly overruns = new Set<string>();
  readonly #routes = new Map<string, Route>();
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor() {
    this.#server = createServer((req, res) => {
      const path = req.url ?? '';
      this.requests.push({ method: req.method ?? '', path, headers: req.headers });
      const route = this.#routes.get(path);
      if (!route) {
        res.writeHead(404, { 'Content-Type': 'text/html' }).end('not found');
        return;
      }
      if (route.kind === 'page') {
        const answer = () =>
          res.writeHead(200, { 'Content-Type': route.contentType, ...route.headers }).end(route.body);
        if (route.delayMs) setTimeout(answer, route.delayMs);
        else answer();
      } else if (route.kind === 'status') {
        res.writeHead(route.status, { 'Content-Type': 'text/html', ...route.headers }).end(`status ${route.status}`);
      } else {
        this.#stream(path, route, res);
      }
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<StreamingOrigin> {
    const origin = new StreamingOrigin();
    await new Promise<void>((resolve) => origin.#server.listen(0, '127.0.0.1', resolve));
    origin.url = `http://127.0.0.1:${(origin.#server.address() as AddressInfo).port}`;
    return origin;
  }

  route(path: string, route: Route): void {
    this.#routes.set(path, route);
  }

  requestsFor(path: string): number {
    return this.requests.filter((request) => request.path === path).length;
  }

  #stream(path: string, route: Extract<Route, { kind: 'stream' }>, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': route.contentType,
      ...(route.declareLength ? { 'Content-Length': String(route.bytes) } : {}),
    });
    let sent = 0;
    const write = () => {
      while (sent < route.bytes) {
        if (route.cutAfterBytes !== undefined && sent >= route.cutAfterBytes) {
          this.overruns.add(path);
          res.destroy();
          return;
        }
        const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, route.bytes - sent));
        sent += chunk.length;
        this.bytesSent.set(path, (this.bytesSent.get(path) ?? 0) + chunk.length);
        if (!res.write(chunk)) {
          res.once('drain', write);
          return;
        }
      }
      res.end();
    };
    res.on('error', () => undefined);
    write();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
