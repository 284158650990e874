import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with requests: pass them on, reset the connection, answer 503, or never answer. */
export type ProxyMode = 'pass' | 'reset' | '503' | 'hang';

/**
 * A plain HTTP forwarder on 127.0.0.1 that records every request's method, path and headers and can
 * be switched into an outage (resets, 503s, hangs): the mirror's S3 outage, or a witness of what the
 * refresher sent Ghost.
 */
export class RecordingProxy {
  url = '';
  mode: ProxyMode = 'pass';
  /** Each request as it came, with the status it was answered (once answered; none when reset or hung). */
  readonly requests: {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    mode: ProxyMode;
    status?: number;
  }[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(target: URL) {
    this.#server = createServer((req, res) => {
      const mode = this.mode;
      const recorded: (typeof this.requests)[number] = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        mode,
      };
      this.requests.push(recorded);
      if (mode === 'reset') {
        req.socket.destroy();
        return;
      }
      if (mode === 'hang') return;
      if (mode === '503') {
        recorded.status = 503;
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('injected outage\n');
        return;
      }
      const forwarded = request(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          recorded.status = answer.statusCode ?? 502;
          res.writeHead(recorded.status, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => req.socket.destroy());
      req.pipe(forwarded);
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(target: string): Promise<RecordingProxy> {
    const proxy = new RecordingProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.url = `http://127.0.0.1:${(proxy.#server.address() as AddressInfo).port}`;
    return proxy;
  }

  /** Switches mode and drops open connections, so keep-alive sockets see the change too. */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
