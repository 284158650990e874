import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A pass-through proxy to Ghost that, for the requests `hangs` picks, accepts them and never
 * answers: a Ghost whose health endpoint still works while a page or an admin call hangs (a stuck
 * query, a wedged route). Counts every request it receives, by path.
 */
export class HangingProxy {
  hangs: (req: IncomingMessage) => boolean = () => false;
  readonly #target: URL;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #seen = new Map<string, number>();
  #port = 0;

  private constructor(target: string) {
    this.#target = new URL(target);
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(target: string): Promise<HangingProxy> {
    const proxy = new HangingProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    const address = proxy.#server.address();
    proxy.#port = typeof address === 'object' && address ? address.port : 0;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** How many requests for `method path` arrived. */
  seen(method: string, path: string): number {
    return this.#seen.get(`${method} ${path}`) ?? 0;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const key = `${req.method} ${req.url}`;
    this.#seen.set(key, (this.#seen.get(key) ?? 0) + 1);
    if (this.hangs(req)) {
      req.resume();
      return;
    }
    const upstream = request(
      {
        hostname: this.#target.hostname,
        port: this.#target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => res.destroy());
    req.pipe(upstream);
  }
}
