import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { type Logger, summarizeError } from '@ghost-ha/core';
import type { HealthStatus } from './Check.js';
import { forwardedHeaders, withoutHopByHop } from './forwardedHeaders.js';
import { listen } from './listen.js';
import type { SidecarMetrics } from './SidecarMetrics.js';

export interface GateOptions {
  /** Ghost inside the task, e.g. `http://127.0.0.1:2368`. */
  ghostUrl: string;
  retryAfterSeconds: number;
  /** The verdict of the last completed round. */
  verdict: () => HealthStatus;
  metrics: SidecarMetrics;
  logger: Logger;
  now: () => number;
}

/**
 * The ALB's target: a streaming reverse proxy to Ghost. While the verdict is `fail` it answers
 * GET/HEAD with an immediate 503, which CloudFront's origin group takes as the cue to try the other
 * region; a request that would change something still goes to Ghost, which decides for itself.
 */
export class Gate {
  readonly #options: GateOptions;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  readonly #target: URL;
  readonly #unavailableBody: Buffer;
  #inFlight = 0;
  #draining = false;
  #idle: (() => void) | undefined;

  constructor(options: GateOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'Gate' });
    this.#target = new URL(options.ghostUrl);
    this.#unavailableBody = Buffer.from('Ghost is unavailable in this region; try again shortly.\n');
    this.#server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.#handle(req, res));
    options.metrics.readGateInFlightFrom(() => this.#inFlight);
  }

  listen(port: number, host?: string): Promise<number> {
    return listen(this.#server, port, host);
  }

  /**
   * Stops accepting connections and waits for in-flight requests, at most `timeoutMs`; whatever is
   * left then is cut. Resolves with the number of requests that had to be cut.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#idle = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const cut = this.#inFlight;
    if (cut > 0) this.#log.warn({ cut }, 'drain timed out; cutting the requests still in flight');
    this.#server.closeAllConnections();
    await closed;
    this.#agent.destroy();
    return cut;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const started = this.#options.now();
    this.#inFlight++;
    res.once('close', () => {
      this.#inFlight--;
      this.#options.metrics.recordGateRequest(res.statusCode, (this.#options.now() - started) / 1000);
      if (this.#inFlight === 0) this.#idle?.();
    });

    if ((req.method === 'GET' || req.method === 'HEAD') && this.#options.verdict() === 'fail') {
      this.#unavailable(res);
      return;
    }
    this.#forward(req, res);
  }

  #unavailable(res: ServerResponse): void {
    res.writeHead(503, {
      'Retry-After': String(this.#options.retryAfterSeconds),
      'Cache-Control': 'no-store',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': this.#unavailableBody.length,
      ...(this.#draining ? { Connection: 'close' } : {}),
    });
    res.end(this.#unavailableBody);
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const upstream = request(
      {
        protocol: this.#target.protocol,
        hostname: this.#target.hostname,
        port: this.#target.port,
        method: req.method,
        path: req.url,
        headers: forwardedHeaders(req.headers, req.socket.remoteAddress),
        agent: this.#agent,
      },
      (upstreamRes) => {
        const headers = withoutHopByHop(upstreamRes.headers);
        if (this.#draining) headers.connection = 'close';
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
        upstreamRes.pipe(res);
        upstreamRes.once('error', () => res.destroy());
      },
    );
    upstream.once('error', (error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const summary = summarizeError(error);
      this.#log.warn({ err: summary, method: req.method, path: req.url }, 'Ghost did not answer the gate');
      const body = Buffer.from(`Ghost did not answer (${summary.code ?? summary.name}).\n`);
      res.writeHead(502, {
        'Cache-Control': 'no-store',
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': body.length,
        ...(this.#draining ? { Connection: 'close' } : {}),
      });
      res.end(body);
    });
    // The client went away before the answer was complete: stop Ghost's side too.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }
}
