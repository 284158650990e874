import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does with the next CreateInvalidation request:
 * an AWS error answer, a 500, a connection reset before forwarding, a reset after moto already
 * created the invalidation (the answer is lost), or a plain pass-through.
 */
export type Fault = 'Throttling' | 'TooManyInvalidationsInProgress' | '500' | 'reset' | 'reset-after-create' | 'pass';

/**
 * An HTTP proxy in front of moto that injects CloudFront's failures into CreateInvalidation calls
 * (moto never throttles, nor refuses a path). Other calls pass through untouched. Only on 127.0.0.1.
 */
export class FaultProxy {
  url = '';
  readonly faults: Fault[] = [];
  /**
   * Paths the distribution refuses for good: a CreateInvalidation naming any of them is answered
   * 400 `InvalidArgument`, as CloudFront answers a path it will not take, every time (after the
   * queued faults). https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html
   */
  readonly refusePaths = new Set<string>();
  /** CreateInvalidation requests seen, with what was done to each. */
  readonly seen: Fault[] = [];
  /** CreateInvalidation requests seen: when they arrived and their XML body. */
  readonly requests: { at: number; body: string }[] = [];
  #server: Server | undefined;

  static async start(target: string): Promise<FaultProxy> {
    const proxy = new FaultProxy();
    const upstream = new URL(target);
    proxy.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const isCreate = req.method === 'POST' && /\/distribution\/[^/]+\/invalidation$/.test(req.url ?? '');
        const fault: Fault = isCreate ? (proxy.faults.shift() ?? 'pass') : 'pass';
        const text = body.toString('utf8');
        if (isCreate) {
          proxy.seen.push(fault);
          proxy.requests.push({ at: Date.now(), body: text });
        }
        const refused =
          isCreate && fault === 'pass'
            ? [...proxy.refusePaths].find((path) => text.includes(`<Path>${path}</Path>`))
            : undefined;
        if (refused !== undefined) {
          res.writeHead(400, { 'Content-Type': 'text/xml' });
          res.end(
            `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>InvalidArgument</Code><Message>Your request contains one or more invalid invalidation paths.</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
          );
          return;
        }
        if (fault === 'reset') {
          req.socket.destroy();
          return;
        }
        if (fault === 'Throttling' || fault === 'TooManyInvalidationsInProgress') {
          res.writeHead(400, { 'Content-Type': 'text/xml' });
          res.end(
            `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>${fault}</Code><Message>${fault} injected</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
          );
          return;
        }
        if (fault === '500') {
          res.writeHead(500, { 'Content-Type': 'text/xml' });
          res.end(
            '<?xml version="1.0"?><ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>injected</Message></Error></ErrorResponse>',
          );
          return;
        }
        const forwarded = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: upstream.host },
          },
          (answer) => {
            if (fault === 'reset-after-create') {
              answer.resume();
              answer.on('end', () => req.socket.destroy());
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forwarded.on('error', () => req.socket.destroy());
        forwarded.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.#server?.listen(0, '127.0.0.1', resolve));
    proxy.url = `http://127.0.0.1:${(proxy.#server.address() as AddressInfo).port}`;
    return proxy;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
