import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FrontDoorOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Base URLs to forward to, in order of preference (e.g. the gate of each running task). */
  targets: () => readonly string[];
}

/**
 * The load balancer's place in front of the task model: the site URL's port, forwarding each request
 * to the first target that accepts the connection (the service's load balancer entry names the
 * container and port: the health-sidecar's gate). 503 when no target accepts. No health checks of
 * its own: the gate already answers 503 while its verdict is `fail`.
 */
export class FrontDoor {
  readonly #server: Server;
  readonly #options: FrontDoorOptions;
  port = 0;

  private constructor(options: FrontDoorOptions) {
    this.#options = options;
    this.#server = createServer((incoming, outgoing) => {
      const body: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => body.push(chunk));
      incoming.on('end', () => {
        const targets = [...this.#options.targets()];
        const attempt = () => {
          const target = targets.shift();
          if (!target) {
            outgoing.writeHead(503, { 'Content-Type': 'text/plain' }).end('No task is serving\n');
            return;
          }
          const upstream = request(
            new URL(incoming.url ?? '/', target),
            { method: incoming.method, headers: incoming.headers },
            (answer) => {
              outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(outgoing);
            },
          );
          upstream.once('error', () => {
            if (outgoing.headersSent) outgoing.destroy();
            else attempt();
          });
          upstream.end(Buffer.concat(body));
        };
        attempt();
      });
    });
  }

  static async start(options: FrontDoorOptions): Promise<FrontDoor> {
    const door = new FrontDoor(options);
    await new Promise<void>((resolve, reject) => {
      door.#server.once('error', reject);
      door.#server.listen(options.port, '127.0.0.1', resolve);
    });
    door.port = (door.#server.address() as AddressInfo).port;
    return door;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
