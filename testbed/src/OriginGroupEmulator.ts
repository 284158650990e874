import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** An origin reached over HTTP (the ALB, here the health-sidecar's gate). */
export interface HttpOriginMember {
  id: string;
  url: string;
}

/**
 * An S3 origin with origin access control: CloudFront signs a GetObject for `originPath` + the
 * request path (percent-decoded, as S3 decodes the URI), without the query string.
 */
export interface S3OriginMember {
  id: string;
  client: S3Client;
  bucket: string;
  /** CloudFront's OriginPath, e.g. `/site`: `/` is then the object `site/`. */
  originPath: string;
}

export interface OriginGroupEmulatorOptions {
  primary: HttpOriginMember;
  secondary: HttpOriginMember | S3OriginMember;
  /** Primary answers that send the request to the secondary; CloudFront's configured failover criteria. */
  failoverStatusCodes?: readonly number[];
  /** Path prefixes whose cache behaviors target the primary alone (write and private paths). */
  primaryOnlyPrefixes?: readonly string[];
  /** How long the primary may take to send its response headers before the request fails over (OriginReadTimeout). */
  readTimeoutMs?: number;
}

/** One viewer request and who answered it. */
export interface RoutedRequest {
  method: string;
  path: string;
  /** The member whose answer the viewer got. */
  servedBy: string;
  status: number;
  /** Why the secondary was asked: the primary's status, `connection` or `timeout`. */
  failoverReason?: string;
}

const DEFAULT_PRIMARY_ONLY = ['/ghost/', '/members/', '/p/', '/r/', '/private/', '/unsubscribe/', '/.ghost/'];
const GROUP_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CloudFront's origin-group failover, on 127.0.0.1, without its cache: GET/HEAD/OPTIONS on group
 * paths go to the primary; a configured status code (default 500, 502, 503, 504), a connection
 * failure or a read timeout sends the same request once to the secondary, whose answer the viewer
 * gets whatever it is. Other methods and primary-only paths go to the primary alone, errors included.
 */
export class OriginGroupEmulator {
  url = '';
  readonly routed: RoutedRequest[] = [];
  readonly #options: Required<OriginGroupEmulatorOptions>;
  readonly #server: Server;

  private constructor(options: OriginGroupEmulatorOptions) {
    this.#options = {
      failoverStatusCodes: [500, 502, 503, 504],
      primaryOnlyPrefixes: DEFAULT_PRIMARY_ONLY,
      readTimeoutMs: 30_000,
      ...options,
    };
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch(() => res.destroy());
    });
  }

  static async start(options: OriginGroupEmulatorOptions): Promise<OriginGroupEmulator> {
    const emulator = new OriginGroupEmulator(options);
    await new Promise<void>((resolve) => emulator.#server.listen(0, '127.0.0.1', resolve));
    emulator.url = `http://127.0.0.1:${(emulator.#server.address() as AddressInfo).port}`;
    return emulator;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const pathname = path.split('?')[0] ?? '/';
    const body = await readBody(req);
    const inGroup =
      GROUP_METHODS.has(method) && !this.#options.primaryOnlyPrefixes.some((prefix) => pathname.startsWith(prefix));
    const primary = await this.#fromHttp(this.#options.primary, req, body, inGroup ? this.#options.readTimeoutMs : 0);
    let failoverReason: string | undefined;
    if (inGroup) {
      if (primary.kind === 'failed') failoverReason = primary.reason;
      else if (this.#options.failoverStatusCodes.includes(primary.status)) failoverReason = String(primary.status);
    }
    if (failoverReason === undefined) {
      if (primary.kind === 'failed') {
        this.#record(method, path, this.#options.primary.id, 502);
        res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`origin ${primary.reason}\n`);
        return;
      }
      this.#record(method, path, this.#options.primary.id, primary.status);
      send(res, primary, method);
      return;
    }
    const secondary = this.#options.secondary;
    const answer =
      'bucket' in secondary ? await fromS3(secondary, pathname) : await this.#fromHttp(secondary, req, body, 0);
    if (answer.kind === 'failed') {
      this.#record(method, path, secondary.id, 502, failoverReason);
      res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`both origins failed (${answer.reason})\n`);
      return;
    }
    this.#record(method, path, secondary.id, answer.status, failoverReason);
    send(res, answer, method);
  }

  #record(method: string, path: string, servedBy: string, status: number, failoverReason?: string): void {
    this.routed.push({ method, path, servedBy, status, ...(failoverReason ? { failoverReason } : {}) });
  }

  #fromHttp(member: HttpOriginMember, req: IncomingMessage, body: Buffer, timeoutMs: number): Promise<OriginAnswer> {
    const target = new URL(member.url);
    return new Promise((resolve) => {
      let settled = false;
      const settle = (answer: OriginAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(answer);
      };
      const headers = { ...req.headers };
      delete headers.connection;
      const upstream = request(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () =>
            settle({
              kind: 'answer',
              status: answer.statusCode ?? 502,
              headers: answer.headers as Record<string, string | string[]>,
              body: Buffer.concat(chunks),
            }),
          );
          answer.on('error', () => settle({ kind: 'failed', reason: 'connection' }));
        },
      );
      // CloudFront's read timeout counts until the first byte of the answer.
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              settle({ kind: 'failed', reason: 'timeout' });
              upstream.destroy();
            }, timeoutMs)
          : undefined;
      upstream.once('response', () => clearTimeout(timer));
      upstream.on('error', () => settle({ kind: 'failed', reason: 'connection' }));
      upstream.end(body);
    });
  }
}

type OriginAnswer =
  | { kind: 'answer'; status: number; headers: Record<string, string | string[]>; body: Buffer }
  | { kind: 'failed'; reason: 'connection' | 'timeout' };

async function fromS3(member: S3OriginMember, pathname: string): Promise<OriginAnswer> {
  let key: string;
  try {
    key = `${member.originPath.replace(/^\/+/, '')}${decodeURIComponent(pathname)}`;
  } catch {
    return { kind: 'answer', status: 400, headers: { 'content-type': 'text/plain' }, body: Buffer.from('bad path\n') };
  }
  try {
    const object = await member.client.send(new GetObjectCommand({ Bucket: member.bucket, Key: key }));
    const body = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
    const headers: Record<string, string> = {};
    if (object.ContentType) headers['content-type'] = object.ContentType;
    if (object.CacheControl) headers['cache-control'] = object.CacheControl;
    if (object.ETag) headers.etag = object.ETag;
    if (object.LastModified) headers['last-modified'] = object.LastModified.toUTCString();
    return { kind: 'answer', status: 200, headers, body };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === undefined) return { kind: 'failed', reason: 'connection' };
    return { kind: 'answer', status, headers: { 'content-type': 'application/xml' }, body: Buffer.from('') };
  }
}

function send(res: ServerResponse, answer: Extract<OriginAnswer, { kind: 'answer' }>, method: string): void {
  const headers = { ...answer.headers };
  for (const name of ['connection', 'keep-alive', 'transfer-encoding']) delete headers[name];
  headers['content-length'] = String(answer.body.length);
  res.writeHead(answer.status, headers);
  res.end(method === 'HEAD' ? undefined : answer.body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
