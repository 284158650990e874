import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HEALTH_CONTENT_TYPE, type Logger, type RenderedReport, summarizeError } from '@ghost-ha/core';
import { listen } from './listen.js';
import type { SidecarMetrics } from './SidecarMetrics.js';

export interface HealthServerOptions {
  /** The last completed round; read, never computed, per request. */
  report: () => RenderedReport;
  /** True while this task holds the singleton lock (the ECS container health check). */
  lockHeld: () => boolean;
  metrics: SidecarMetrics;
  logger: Logger;
}

const LIVE = Buffer.from(JSON.stringify({ status: 'pass' }));
const STARTUP_PASS = Buffer.from(JSON.stringify({ status: 'pass' }));
const STARTUP_FAIL = Buffer.from(
  JSON.stringify({ status: 'fail', output: 'this task does not hold the singleton lock (another Ghost task may)' }),
);
const NOT_FOUND = Buffer.from(
  JSON.stringify({
    error: 'not found',
    endpoints: ['/health/live', '/health/ready', '/health', '/health/startup', '/metrics'],
  }),
);

/**
 * The health port. Plain node:http rather than a framework: five fixed GET routes, and
 * `/health/ready` is probed often enough that per-request routing cost shows (see the benchmark).
 */
export class HealthServer {
  readonly #options: HealthServerOptions;
  readonly #server: Server;
  readonly #log: Logger;

  constructor(options: HealthServerOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'HealthServer' });
    this.#server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.#handle(req, res));
  }

  listen(port: number, host?: string): Promise<number> {
    return listen(this.#server, port, host);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'method not allowed' }));
      return;
    }
    const path = pathOf(req.url);
    if (path === '/health/ready') {
      const report = this.#options.report();
      send(res, report.httpStatus, report.verdictBody);
    } else if (path === '/health/live') {
      send(res, 200, LIVE);
    } else if (path === '/health') {
      const report = this.#options.report();
      send(res, report.httpStatus, report.fullBody);
    } else if (path === '/health/startup') {
      if (this.#options.lockHeld()) send(res, 200, STARTUP_PASS);
      else send(res, 503, STARTUP_FAIL);
    } else if (path === '/metrics') {
      void this.#metrics(res);
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(NOT_FOUND);
    }
  }

  async #metrics(res: ServerResponse): Promise<void> {
    const { registry } = this.#options.metrics;
    try {
      const text = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(text);
    } catch (error) {
      this.#log.error({ error: summarizeError(error) }, 'collecting metrics failed');
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('collecting metrics failed\n');
    }
  }
}

function send(res: ServerResponse, status: number, body: Buffer): void {
  // A flat [name, value, …] list: node writes it as is, without normalising an object per response.
  res.writeHead(status, [
    'Content-Type',
    HEALTH_CONTENT_TYPE,
    'Content-Length',
    String(body.length),
    'Cache-Control',
    'no-store',
  ]);
  res.end(body);
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
