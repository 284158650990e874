import {
  Agent,
  type ClientRequest,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type HealthStatus, type Logger, summarizeError } from '@ghost-ha/core';
import { type ForwardingPolicy, forwardedHeaders, withoutHopByHop } from './forwardedHeaders.js';
import { listen } from './listen.js';
import type { SidecarMetrics } from './SidecarMetrics.js';
import { SIDECAR_LOG } from './signals.js';
import { type StaleSettings, withStaleDirectives } from './withStaleDirectives.js';

export interface GateOptions {
  /** Ghost inside the task, e.g. `http://127.0.0.1:2368`. */
  ghostUrl: string;
  /** The Host, X-Forwarded-* and client address Ghost is told, whatever the request says. */
  forwarding: ForwardingPolicy;
  retryAfterSeconds: number;
  /** How long Ghost may take to start answering (its response headers) once a request is sent in full. */
  responseTimeoutMs: number;
  /** `stale-if-error` / `stale-while-revalidate` added to cacheable answers to reads. */
  stale: StaleSettings;
  /** The verdict of the last completed round. */
  verdict: () => HealthStatus;
  /**
   * Calls the listener the moment the checks' verdict changes (a shutdown's `fail` is not one: requests
   * in flight then are drained, not refused); returns the unsubscribe function.
   */
  onVerdictChange: (listener: (status: HealthStatus) => void) => () => void;
  metrics: SidecarMetrics;
  logger: Logger;
  now: () => number;
}

/** One request on its way to Ghost, until Ghost's response headers arrive or the gate answers instead. */
interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly upstream: ClientRequest;
  /** GET/HEAD: safe to answer 503 when the verdict turns `fail`, as CloudFront then asks the other region. */
  readonly read: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Ghost's answer or the gate's own is under way (or the client left): no timeout, no 503 any more. */
  settled: boolean;
  /** Ghost's response is being relayed. */
  relaying: boolean;
}

const UNAVAILABLE = Buffer.from('Ghost is unavailable in this region; try again shortly.\n');

/**
 * The ALB's target: a streaming reverse proxy to Ghost. It owns what Ghost is told about the
 * request's origin: `Host`, `X-Forwarded-Host` and `-Proto` are the site's, and `X-Forwarded-For` is
 * the one client address it can trust (see `forwardedHeaders`). While the verdict is `fail` it answers
 * GET/HEAD with an immediate 503, which CloudFront's origin group takes as the cue to try the other
 * region; a request that would change something still goes to Ghost, which decides for itself.
 *
 * No reader is left hanging on a stalled Ghost: a GET/HEAD still waiting for Ghost's response
 * headers when the verdict turns `fail` is answered 503 at that moment, and any request Ghost has
 * not started answering within `responseTimeoutMs` of being sent gets 504. Nothing is ever retried
 * or sent to Ghost twice: a POST keeps waiting until Ghost answers or the timeout.
 */
export class Gate {
  readonly #options: GateOptions;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  readonly #target: URL;
  readonly #timeoutBody: Buffer;
  /** GET/HEAD requests sent to Ghost whose response headers have not arrived yet. */
  readonly #waitingReads = new Set<Exchange>();
  readonly #unsubscribe: () => void;
  #inFlight = 0;
  #draining = false;
  #idle: (() => void) | undefined;

  constructor(options: GateOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'Gate' });
    this.#target = new URL(options.ghostUrl);
    this.#timeoutBody = Buffer.from(`Ghost did not answer within ${options.responseTimeoutMs} ms.\n`);
    this.#server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.#handle(req, res));
    options.metrics.readGateInFlightFrom(() => this.#inFlight);
    this.#unsubscribe = options.onVerdictChange((status) => {
      if (status === 'fail') this.#failWaitingReads();
    });
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
    if (cut > 0) this.#log.warn({ cut }, SIDECAR_LOG.gateDrainCut);
    this.#server.closeAllConnections();
    await closed;
    this.#unsubscribe();
    this.#agent.destroy();
    return cut;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const started = this.#options.now();
    this.#inFlight++;
    const read = req.method === 'GET' || req.method === 'HEAD';
    const exchange = read && this.#options.verdict() === 'fail' ? undefined : this.#forward(req, res, read);
    res.on('close', () => {
      // The client went away before the answer was complete: stop Ghost's side too.
      if (exchange && !res.writableFinished) {
        this.#settle(exchange);
        exchange.upstream.destroy();
      }
      this.#inFlight--;
      this.#options.metrics.recordGateRequest(res.statusCode, (this.#options.now() - started) / 1000);
      if (this.#inFlight === 0) this.#idle?.();
    });
    if (!exchange) this.#answer(res, 503, UNAVAILABLE, { 'Retry-After': String(this.#options.retryAfterSeconds) });
  }

  #forward(req: IncomingMessage, res: ServerResponse, read: boolean): Exchange {
    const exchange: Exchange = {
      req,
      res,
      read,
      timer: undefined,
      settled: false,
      relaying: false,
      upstream: request(
        {
          protocol: this.#target.protocol,
          hostname: this.#target.hostname,
          port: this.#target.port,
          method: req.method,
          path: req.url,
          headers: forwardedHeaders(req.headers, req.socket.remoteAddress, this.#options.forwarding),
          agent: this.#agent,
        },
        (upstreamRes) => {
          if (exchange.settled) {
            upstreamRes.destroy();
            return;
          }
          this.#settle(exchange);
          exchange.relaying = true;
          let headers = withoutHopByHop(upstreamRes.headers);
          if (read) headers = withStaleDirectives(headers, this.#options.stale);
          if (this.#draining) headers.connection = 'close';
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
          upstreamRes.pipe(res);
          upstreamRes.on('error', () => res.destroy());
        },
      ),
    };
    const { upstream } = exchange;
    if (read) this.#waitingReads.add(exchange);
    upstream.on('error', (error) => {
      if (exchange.settled) {
        // Ghost's answer broke off half way: all that is left is to cut the client.
        if (exchange.relaying && !res.writableFinished) res.destroy();
        return;
      }
      this.#settle(exchange);
      const summary = summarizeError(error);
      this.#log.warn({ error: summary, method: req.method, path: req.url }, SIDECAR_LOG.gateUpstreamFailed);
      this.#answer(res, 502, Buffer.from(`Ghost did not answer (${summary.code ?? summary.name}).\n`));
    });
    // The wait for Ghost's answer starts once the request is sent in full: a slow upload is the
    // client's time, not Ghost's.
    upstream.on('finish', () => {
      if (!exchange.settled)
        exchange.timer = setTimeout(() => this.#timedOut(exchange), this.#options.responseTimeoutMs);
    });
    req.pipe(upstream);
    return exchange;
  }

  /** From now on the exchange is answered (by Ghost or by the gate): no timeout, no 503 on `fail`. */
  #settle(exchange: Exchange): void {
    exchange.settled = true;
    clearTimeout(exchange.timer);
    if (exchange.read) this.#waitingReads.delete(exchange);
  }

  /** The verdict turned `fail`: readers still waiting on Ghost get the 503 now, not when Ghost wakes up. */
  #failWaitingReads(): void {
    if (this.#waitingReads.size === 0) return;
    this.#log.warn({ requests: this.#waitingReads.size }, SIDECAR_LOG.gateFailedWaitingReads);
    for (const exchange of [...this.#waitingReads]) {
      this.#settle(exchange);
      exchange.upstream.destroy();
      this.#answer(exchange.res, 503, UNAVAILABLE, { 'Retry-After': String(this.#options.retryAfterSeconds) });
    }
  }

  /** Ghost accepted the request but has not begun to answer within the timeout; it is not sent again. */
  #timedOut(exchange: Exchange): void {
    if (exchange.settled) return;
    this.#settle(exchange);
    const { req, res, upstream } = exchange;
    this.#log.warn(
      { method: req.method, path: req.url, timeoutMs: this.#options.responseTimeoutMs },
      SIDECAR_LOG.gateResponseTimeout,
    );
    upstream.destroy();
    this.#answer(res, 504, this.#timeoutBody);
  }

  /** An answer of the gate's own: never cached, and closing the connection while draining. */
  #answer(res: ServerResponse, status: number, body: Buffer, extra: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, {
      ...extra,
      'Cache-Control': 'no-store',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': body.length,
      ...(this.#draining ? { Connection: 'close' } : {}),
    });
    res.end(body);
  }
}
