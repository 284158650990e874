import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './waitFor.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as sent, for signature checks. */
  rawBody: Buffer;
  receivedAt: number;
}

/** A plain HTTP server that records every request, standing in for a webhook receiver. */
export class WebhookListener {
  readonly received: ReceivedRequest[] = [];
  #server: Server | undefined;
  #status = 200;
  url = '';

  static async start(): Promise<WebhookListener> {
    const listener = new WebhookListener();
    listener.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        listener.received.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          rawBody: Buffer.concat(chunks),
          receivedAt: Date.now(),
        });
        res.statusCode = listener.#status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => listener.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = listener.#server.address() as AddressInfo;
    listener.url = `http://127.0.0.1:${port}`;
    return listener;
  }

  /** The status code answered from now on. */
  answerWith(status: number): void {
    this.#status = status;
  }

  async waitForRequest(path: string, timeoutMs = 15_000): Promise<ReceivedRequest> {
    return waitFor(async () => this.received.find((request) => request.path === path), {
      what: `a request to ${path}`,
      timeoutMs,
      intervalMs: 50,
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
