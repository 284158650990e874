import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Stands in for a Ghost without bulk delete: forwards everything to a real Ghost, except
 * `DELETE /ghost/api/admin/posts/?filter=` (and pages), which it answers 404 as Ghost does for an
 * unknown route. Optionally replays the first single delete, so the client sees Ghost's real 404
 * for a post that is already gone (a retried request whose first answer was lost).
 */
export class BulkDeleteMissingProxy {
  readonly #server: Server;
  readonly #target: URL;
  readonly #replayFirstDelete: boolean;
  singleDeletes = 0;
  url = '';

  private constructor(target: string, replayFirstDelete: boolean) {
    this.#target = new URL(target);
    this.#replayFirstDelete = replayFirstDelete;
    this.#server = createServer((req, res) => {
      void this.#handle(req).then(({ status, headers, body }) => {
        res.writeHead(status, headers);
        res.end(body);
      });
    });
  }

  static async start(target: string, options: { replayFirstDelete?: boolean } = {}): Promise<BulkDeleteMissingProxy> {
    const proxy = new BulkDeleteMissingProxy(target, options.replayFirstDelete ?? false);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.url = `http://127.0.0.1:${(proxy.#server.address() as AddressInfo).port}`;
    return proxy;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    if (req.method === 'DELETE' && /^\/ghost\/api\/admin\/(posts|pages)\/$/.test(path)) {
      const error = { errors: [{ message: 'Resource not found', type: 'NotFoundError' }] };
      return { status: 404, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(error)) };
    }
    if (req.method === 'DELETE') {
      this.singleDeletes++;
      if (this.#replayFirstDelete && this.singleDeletes === 1) await this.#forward(req, body);
    }
    return this.#forward(req, body);
  }

  #forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: this.#target.hostname,
          port: this.#target.port,
          method: req.method,
          path: req.url,
          // Plain bodies: only the content type is passed back.
          headers: { ...req.headers, host: this.#target.host, 'accept-encoding': 'identity' },
        },
        async (response) => {
          const parts: Buffer[] = [];
          for await (const part of response) parts.push(part as Buffer);
          const headers: Record<string, string> = {};
          const type = response.headers['content-type'];
          if (type) headers['content-type'] = type;
          resolve({ status: response.statusCode ?? 502, headers, body: Buffer.concat(parts) });
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}
