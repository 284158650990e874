import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WEBHOOK_PREFIX } from './createWebhookHandler.js';

/** How long a client may take to send its headers, and its whole request. */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 10_000;

export interface HttpServerOptions {
  port: number;
  host: string;
  /** `POST /webhooks/ghost/...`: the hot path, on plain node:http. */
  onWebhook: RequestListener;
  /** Every other request. */
  app: RequestListener;
}

export interface RunningHttpServer {
  /** 0 once closed. */
  readonly port: number;
  /** Stops taking connections and ends idle ones; resolves once every connection has closed. */
  close(): Promise<void>;
  /** Ends the connections still open (requests in flight included). */
  closeAllConnections(): void;
}

/** Listens on `port` (0 picks a free one); resolves once listening. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { onWebhook, app } = options;
  // Ghost gives up after 2 s; a slow client must not hold a socket much longer than that. Node
  // enforces these limits on a sweep every `connectionsCheckingInterval` (30 s unless set here, at
  // creation), so without it a slow client held its socket for up to 35 s.
  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 250 },
    (req, res) => {
      if (req.method === 'POST' && req.url?.startsWith(WEBHOOK_PREFIX)) onWebhook(req, res);
      else app(req, res);
    },
  );
  server.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    get port() {
      return (server.address() as AddressInfo | null)?.port ?? 0;
    },
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return closed;
    },
    closeAllConnections: () => server.closeAllConnections(),
  };
}
