import { connect, createServer, type Server, type Socket } from 'node:net';
import type { EcsTaskModel } from './EcsTaskModel.js';

export interface ServiceDiscoveryNameOptions {
  /** The private DNS name, e.g. `ghost.ghost-ha.internal`. */
  hostname: string;
  /** The container port callers name with it (awsvpc: the task's own port). */
  port: number;
  /** The tasks of the ECS service registered under the name. */
  tasks: () => readonly EcsTaskModel[];
}

/**
 * One Cloud Map private DNS name of an ECS service (service discovery, A records), on this host.
 * ECS registers a task's address while it runs and removes it when the task stops
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html); model
 * tasks share 127.0.0.1 with ports of their own, so the name is a local port that forwards each new
 * connection to the port of a task RUNNING now. With none, the connection is closed at once, as a
 * name without a record fails the caller. Looked up per connection, as a short TTL would be.
 */
export class ServiceDiscoveryName {
  readonly hostname: string;
  readonly port: number;
  /** The local port that stands for `hostname:port`. */
  readonly localPort: number;
  readonly #server: Server;
  /** Open connections, both sides: closed with the name. */
  readonly #sockets: Set<Socket>;

  private constructor(options: ServiceDiscoveryNameOptions, server: Server, localPort: number, sockets: Set<Socket>) {
    this.hostname = options.hostname;
    this.port = options.port;
    this.#server = server;
    this.localPort = localPort;
    this.#sockets = sockets;
  }

  static async start(options: ServiceDiscoveryNameOptions): Promise<ServiceDiscoveryName> {
    const sockets = new Set<Socket>();
    const track = (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    };
    const server = createServer((client) => {
      track(client);
      const task = options
        .tasks()
        .find((candidate) => candidate.status === 'RUNNING' && candidate.ports.has(options.port));
      if (!task) {
        client.destroy();
        return;
      }
      const upstream = connect(task.hostPort(options.port), '127.0.0.1');
      track(upstream);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the discovery name has no port');
    return new ServiceDiscoveryName(options, server, address.port, sockets);
  }

  /** `hostname:port` and what stands for it on this host, for the task model's `hosts`. */
  get mapping(): [string, string] {
    return [`${this.hostname}:${this.port}`, `127.0.0.1:${this.localPort}`];
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}
