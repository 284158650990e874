import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CloudFrontFunction, type FunctionRequest, isFunctionResponse } from './CloudFrontFunction.js';
import { type EdgeHeaders, InlineLambdaFunction } from './InlineLambdaFunction.js';
import {
  type EdgeBehavior,
  type EdgeCachePolicy,
  type EdgeOrigin,
  type EdgeSettings,
  loadEdgeSettings,
  type ValueSelection,
} from './loadEdgeSettings.js';
import { MirrorBucketPolicy } from './MirrorBucketPolicy.js';

/** The local stand-in of the template's custom origins (the ALB; here the health-sidecar's gate). */
export interface HttpOriginMember {
  /** Name in `routed` (default: the template's origin id). */
  id?: string;
  url: string;
}

/** The local stand-in of the template's S3 origin: a bucket in moto, read with the SDK. */
export interface S3OriginMember {
  /** Name in `routed` (default: the template's origin id). */
  id?: string;
  client: S3Client;
  bucket: string;
  /** Ignored: the template's OriginPath is used. Kept so callers can state what they expect. */
  originPath?: string;
}

export interface OriginGroupEmulatorOptions {
  /** Every custom origin of the template (the ALBs). */
  primary: HttpOriginMember;
  /** Every S3 origin of the template (the mirror). */
  secondary: S3OriginMember;
  /** The distribution; default `loadEdgeSettings()` (today's edge.yaml). */
  settings?: EdgeSettings;
  /** The mirror bucket's policy; default `MirrorBucketPolicy.load()` (today's data.yaml). */
  bucketPolicy?: MirrorBucketPolicy;
  /** Factor on the template's connection and read timeouts (tests shorten them; TTLs use `now`). */
  timeScale?: number;
  /** Sets `timeScale` so that the group's first member's OriginReadTimeout lasts this long. */
  readTimeoutMs?: number;
  /** The clock of the cache (ms). */
  now?: () => number;
  /** The viewer's Host when a request carries none that names the site (default: the request's Host). */
  viewerHost?: string;
}

/** One viewer request and who answered it. */
export interface RoutedRequest {
  method: string;
  path: string;
  /** The member whose answer the viewer got, `cache` or the function's name. */
  servedBy: string;
  status: number;
  /** Why the secondary was asked: the primary's status, `connection` or `timeout`. */
  failoverReason?: string;
  /** For an answer from the cache: the member whose answer was stored. */
  storedBy?: string;
  /** CloudFront's X-Cache: Hit, Miss, RefreshHit (stale served on an origin error), or none (function, uncached). */
  cache?: 'Hit' | 'Miss' | 'Stale';
}

/** The headers and host an origin request carries, as CloudFront builds it. */
export interface OriginRequestRecord {
  originId: string;
  method: string;
  path: string;
  host: string;
  headers: Record<string, string>;
}

interface Answer {
  kind: 'answer';
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}
type OriginAnswer = Answer | { kind: 'failed'; reason: 'connection' | 'timeout' };

interface CacheEntry {
  answer: Answer;
  servedBy: string;
  storedAt: number;
  ttlMs: number;
  staleIfErrorMs: number;
  uri: string;
}

const GROUP_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const DISTRIBUTION_DOMAIN = 'd111111abcdef8.cloudfront.net';
// Status codes CloudFront caches as errors, for ErrorCachingMinTTL (default 10 s).
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html
const CACHED_ERRORS = new Set([400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]);
const DEFAULT_ERROR_CACHING_SECONDS = 10;
// Headers no origin request carries from the viewer (hop by hop, or CloudFront's own).
const NEVER_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'accept-encoding']);

/**
 * CloudFront in front of the ALB and the S3 mirror, on 127.0.0.1, as strict as AWS where the
 * project relies on it, every setting read from edge.yaml (`loadEdgeSettings`):
 *
 * - behaviors by path pattern, their allowed methods, viewer-request CloudFront Functions;
 * - the cache: key from the cache policy, TTL from Cache-Control within MinTTL/MaxTTL, DefaultTTL
 *   without one, errors for ErrorCachingMinTTL (default 10 s), `stale-if-error` served when the
 *   origin fails ( https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html );
 * - origin requests carry what the cache and origin request policies select; Host is the viewer's
 *   only when a policy selects it, otherwise the origin's domain name
 *   ( https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html );
 * - connection attempts and timeouts, and the read timeout per attempt, before an origin counts as
 *   failed ( https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html );
 * - origin groups fail over for GET/HEAD/OPTIONS on the configured status codes or a failed
 *   origin; the secondary's answer is final
 *   ( https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html );
 * - S3 behind origin access control: a request whose Host is not the bucket's own fails (S3 takes
 *   the bucket from the Host and the signature covers it) with 403; the bucket policy decides
 *   GetObject, and a missing key is 404 only with s3:ListBucket, else 403 AccessDenied
 *   ( https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html ,
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html ).
 */
export class OriginGroupEmulator {
  url = '';
  readonly routed: RoutedRequest[] = [];
  readonly originRequests: OriginRequestRecord[] = [];
  readonly settings: EdgeSettings;
  readonly #options: OriginGroupEmulatorOptions;
  readonly #policy: MirrorBucketPolicy;
  readonly #timeScale: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #functions = new Map<string, CloudFrontFunction>();
  readonly #lambdas = new Map<string, InlineLambdaFunction>();
  readonly #server: Server;

  private constructor(options: OriginGroupEmulatorOptions) {
    this.#options = options;
    this.settings = options.settings ?? loadEdgeSettings();
    this.#policy = options.bucketPolicy ?? MirrorBucketPolicy.load();
    this.#now = options.now ?? Date.now;
    const firstGroup = [...this.settings.groups.values()][0];
    const firstMember = firstGroup ? this.settings.origins.get(firstGroup.members[0]) : undefined;
    this.#timeScale =
      options.timeScale ??
      (options.readTimeoutMs !== undefined && firstMember
        ? options.readTimeoutMs / (firstMember.readTimeoutSeconds * 1000)
        : 1);
    for (const origin of this.settings.origins.values()) {
      if (origin.kind === 's3' && origin.domainName.split('.')[0] !== this.#policy.bucketName) {
        throw new Error(`The S3 origin ${origin.domainName} is not the data stack's bucket ${this.#policy.bucketName}`);
      }
    }
    for (const behavior of this.settings.behaviors) {
      const fn = behavior.viewerRequestFunction;
      if (fn && !this.#functions.has(fn.name)) this.#functions.set(fn.name, new CloudFrontFunction(fn.name, fn.code));
      const lambda = behavior.originResponseFunction;
      if (lambda && !this.#lambdas.has(lambda.name)) {
        // The function's only way out: requests to the distribution's own name come back here.
        const selfFetch: typeof fetch = (input, init) => {
          const url = new URL(String(input instanceof Request ? input.url : input));
          if (url.hostname !== DISTRIBUTION_DOMAIN) throw new Error(`${lambda.name} fetched ${url.hostname}`);
          return fetch(`${this.url}${url.pathname}${url.search}`, init);
        };
        this.#lambdas.set(lambda.name, new InlineLambdaFunction(lambda.name, lambda.code, selfFetch));
      }
    }
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

  /**
   * CreateInvalidation: removes cached answers whose path matches one of `paths` (a trailing `*`
   * matches any rest), whatever their query string or cookies.
   */
  invalidate(paths: readonly string[]): number {
    let removed = 0;
    for (const [key, entry] of this.#cache) {
      const hit = paths.some((p) => (p.endsWith('*') ? entry.uri.startsWith(p.slice(0, -1)) : entry.uri === p));
      if (hit) {
        this.#cache.delete(key);
        removed += 1;
      }
    }
    return removed;
  }

  /** The behavior CloudFront picks for a path: the first matching pattern, else the default. */
  behaviorFor(pathname: string): EdgeBehavior {
    const found = this.settings.behaviors.find((b) => pathPatternMatches(b.pathPattern, pathname));
    if (!found) throw new Error('The distribution has no default behavior');
    return found;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const [pathname = '/', query = ''] = splitOnce(path, '?');
    const body = await readBody(req);
    const behavior = this.behaviorFor(pathname);
    if (!behavior.allowedMethods.includes(method)) {
      // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesAllowedHTTPMethods
      this.#record({ method, path, servedBy: 'cloudfront', status: 403 });
      sendAnswer(res, textAnswer(403, 'method not allowed for this behavior\n'), method);
      return;
    }
    const viewerHost = this.#options.viewerHost ?? String(req.headers.host ?? '');
    let viewer: FunctionRequest = {
      method,
      uri: pathname,
      querystring: parseQuery(query),
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [
          name,
          { value: name === 'host' ? viewerHost : Array.isArray(value) ? value.join(',') : String(value ?? '') },
        ]),
      ),
      cookies: parseCookies(String(req.headers.cookie ?? '')),
    };
    const fn = behavior.viewerRequestFunction ? this.#functions.get(behavior.viewerRequestFunction.name) : undefined;
    if (fn) {
      const result = fn.run(viewer, DISTRIBUTION_DOMAIN);
      if (isFunctionResponse(result)) {
        const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, v.value]));
        this.#record({ method, path, servedBy: fn.name, status: result.statusCode });
        sendAnswer(res, { kind: 'answer', status: result.statusCode, headers, body: Buffer.alloc(0) }, method);
        return;
      }
      viewer = result;
    }
    const cacheable = behavior.cachedMethods.includes(method) && behavior.cachePolicy.maxTtl > 0;
    const key = cacheable ? cacheKey(behavior, viewer) : undefined;
    const cached = key ? this.#cache.get(key) : undefined;
    const now = this.#now();
    if (cached && now < cached.storedAt + cached.ttlMs) {
      this.#record({
        method,
        path,
        servedBy: 'cache',
        storedBy: cached.servedBy,
        status: cached.answer.status,
        cache: 'Hit',
      });
      sendAnswer(res, withHeader(cached.answer, 'x-cache', 'Hit from cloudfront'), method);
      return;
    }
    const fromOrigins = await this.#fromOrigins(behavior, viewer, body);
    const { servedBy, failoverReason } = fromOrigins;
    const answer = await this.#originResponse(behavior, viewer, fromOrigins.answer, fromOrigins.origin);
    const originFailed = answer.kind === 'failed' || answer.status >= 500;
    if (cached && originFailed && now < cached.storedAt + cached.ttlMs + cached.staleIfErrorMs) {
      this.#record({
        method,
        path,
        servedBy: 'cache',
        storedBy: cached.servedBy,
        status: cached.answer.status,
        cache: 'Stale',
      });
      sendAnswer(res, withHeader(cached.answer, 'x-cache', 'RefreshHit from cloudfront'), method);
      return;
    }
    // An origin that cannot be reached is 502, one that does not answer in time 504.
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-502-bad-gateway.html
    const final: Answer =
      answer.kind === 'failed'
        ? textAnswer(answer.reason === 'timeout' ? 504 : 502, `origin ${answer.reason}\n`)
        : answer;
    if (key) {
      const ttl = ttlOf(behavior.cachePolicy, final, this.settings.errorCachingMinTtl);
      if (ttl) this.#cache.set(key, { answer: final, servedBy, storedAt: now, ...ttl, uri: viewer.uri });
      else this.#cache.delete(key);
    }
    this.#record({
      method,
      path,
      servedBy,
      status: final.status,
      ...(failoverReason ? { failoverReason } : {}),
      ...(key ? { cache: 'Miss' as const } : {}),
    });
    sendAnswer(res, key ? withHeader(final, 'x-cache', 'Miss from cloudfront') : final, method);
  }

  async #fromOrigins(
    behavior: EdgeBehavior,
    viewer: FunctionRequest,
    body: Buffer,
  ): Promise<{ answer: OriginAnswer; servedBy: string; origin: EdgeOrigin; failoverReason?: string }> {
    const group = this.settings.groups.get(behavior.targetOriginId);
    if (!group || !GROUP_METHODS.has(viewer.method)) {
      const origin = this.#origin(group ? group.members[0] : behavior.targetOriginId);
      return { answer: await this.#ask(origin, behavior, viewer, body), servedBy: this.#label(origin), origin };
    }
    const primary = this.#origin(group.members[0]);
    const first = await this.#ask(primary, behavior, viewer, body);
    const failoverReason =
      first.kind === 'failed'
        ? first.reason
        : group.failoverStatusCodes.includes(first.status)
          ? String(first.status)
          : undefined;
    if (failoverReason === undefined) return { answer: first, servedBy: this.#label(primary), origin: primary };
    const secondary = this.#origin(group.members[1]);
    const second = await this.#ask(secondary, behavior, viewer, body);
    return { answer: second, servedBy: this.#label(secondary), origin: secondary, failoverReason };
  }

  /** The behavior's origin-response Lambda@Edge function, on an answer an origin gave. */
  async #originResponse(
    behavior: EdgeBehavior,
    viewer: FunctionRequest,
    answer: OriginAnswer,
    origin: EdgeOrigin,
  ): Promise<OriginAnswer> {
    const lambda = behavior.originResponseFunction
      ? this.#lambdas.get(behavior.originResponseFunction.name)
      : undefined;
    if (!lambda || answer.kind === 'failed') return answer;
    const target = { domainName: origin.domainName, path: origin.originPath };
    const result = await lambda.originResponse({
      config: {
        distributionDomainName: DISTRIBUTION_DOMAIN,
        distributionId: 'local',
        eventType: 'origin-response',
        requestId: 'local',
      },
      request: {
        clientIp: '127.0.0.1',
        method: viewer.method,
        uri: viewer.uri,
        querystring: new URLSearchParams(
          Object.entries(viewer.querystring).map(([name, { value }]): [string, string] => [name, value]),
        ).toString(),
        headers: {},
        origin: origin.kind === 's3' ? { s3: target } : { custom: target },
      },
      response: { status: String(answer.status), statusDescription: '', headers: toEdgeHeaders(answer.headers) },
    });
    const headers = Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([name, values]) => [name, values.map((v) => v.value).join(', ')]),
    );
    const replaced =
      result.body === undefined
        ? answer.body
        : Buffer.from(result.body, result.bodyEncoding === 'base64' ? 'base64' : 'utf8');
    return { kind: 'answer', status: Number(result.status), headers, body: replaced };
  }

  #origin(id: string): EdgeOrigin {
    const origin = this.settings.origins.get(id);
    if (!origin) throw new Error(`No origin ${id} in the distribution`);
    return origin;
  }

  #label(origin: EdgeOrigin): string {
    return (origin.kind === 's3' ? this.#options.secondary.id : this.#options.primary.id) ?? origin.id;
  }

  #ask(origin: EdgeOrigin, behavior: EdgeBehavior, viewer: FunctionRequest, body: Buffer): Promise<OriginAnswer> {
    const forwarded = originRequestHeaders(behavior, viewer, origin);
    const host = forwarded.host ?? origin.domainName;
    const query = forwardedQuery(behavior, viewer.querystring);
    const path = `${origin.originPath}${viewer.uri}${query ? `?${query}` : ''}`;
    const headers = { ...forwarded, host, ...origin.customHeaders };
    this.originRequests.push({ originId: origin.id, method: viewer.method, path, host, headers });
    return origin.kind === 's3'
      ? this.#fromS3(origin, host, viewer.uri)
      : this.#fromHttp(origin, viewer.method, path, headers, body);
  }

  async #fromHttp(
    origin: EdgeOrigin,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<OriginAnswer> {
    // Connection failures and read timeouts are retried up to ConnectionAttempts times in all.
    let last: OriginAnswer = { kind: 'failed', reason: 'connection' };
    for (let attempt = 1; attempt <= origin.connectionAttempts; attempt += 1) {
      last = await this.#attempt(origin, method, path, headers, body);
      if (last.kind === 'answer') return last;
    }
    return last;
  }

  #attempt(
    origin: EdgeOrigin,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<OriginAnswer> {
    const target = new URL(this.#options.primary.url);
    const connectMs = origin.connectionTimeoutSeconds * 1000 * this.#timeScale;
    const readMs = origin.readTimeoutSeconds * 1000 * this.#timeScale;
    return new Promise((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (answer: OriginAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(answer);
      };
      const upstream = request(
        { hostname: target.hostname, port: target.port, method, path, headers, setHost: false },
        (answer) => {
          clearTimeout(timer);
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
      timer = setTimeout(() => {
        settle({ kind: 'failed', reason: 'connection' });
        upstream.destroy();
      }, connectMs);
      upstream.on('socket', (socket) => {
        const started = () => {
          clearTimeout(timer);
          // The read timeout runs from the request until the first byte of the answer.
          timer = setTimeout(() => {
            settle({ kind: 'failed', reason: 'timeout' });
            upstream.destroy();
          }, readMs);
        };
        if (socket.connecting) socket.once('connect', started);
        else started();
      });
      upstream.on('error', () => settle({ kind: 'failed', reason: 'connection' }));
      upstream.end(body.length > 0 ? body : undefined);
    });
  }

  async #fromS3(origin: EdgeOrigin, host: string, uri: string): Promise<OriginAnswer> {
    const bucket = this.#policy.bucketName;
    if (origin.signed && host !== origin.domainName) {
      // The request names another bucket (or none) and the OAC signature does not cover this Host.
      return s3Error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    let key: string;
    try {
      key = `${origin.originPath.replace(/^\/+/, '')}${decodeURIComponent(uri)}`;
    } catch {
      return s3Error(400, 'InvalidURI', 'Could not parse the specified URI.');
    }
    const context = {
      service: 'cloudfront.amazonaws.com',
      sourceArn: this.settings.distributionArn,
      secureTransport: true,
    };
    if (!this.#policy.allows('s3:GetObject', `arn:aws:s3:::${bucket}/${key}`, context)) {
      return s3Error(403, 'AccessDenied', 'Access Denied');
    }
    const member = this.#options.secondary;
    try {
      const object = await member.client.send(new GetObjectCommand({ Bucket: member.bucket, Key: key }));
      const body = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      const headers: Record<string, string> = { server: 'AmazonS3' };
      if (object.ContentType) headers['content-type'] = object.ContentType;
      if (object.CacheControl) headers['cache-control'] = object.CacheControl;
      if (object.ETag) headers.etag = object.ETag;
      if (object.LastModified) headers['last-modified'] = object.LastModified.toUTCString();
      return { kind: 'answer', status: 200, headers, body };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === undefined) return { kind: 'failed', reason: 'connection' };
      if (status === 404) {
        // Without s3:ListBucket S3 does not say whether a key exists.
        return this.#policy.allows('s3:ListBucket', `arn:aws:s3:::${bucket}`, context)
          ? s3Error(404, 'NoSuchKey', 'The specified key does not exist.')
          : s3Error(403, 'AccessDenied', 'Access Denied');
      }
      return s3Error(status, 'Error', 'S3 error');
    }
  }

  #record(entry: RoutedRequest): void {
    this.routed.push(entry);
  }
}

/** CloudFront path patterns: `*` any characters, `?` one, case-sensitive, on the URI path. */
function pathPatternMatches(pattern: string, pathname: string): boolean {
  if (pattern === '*') return true;
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${expression}$`).test(pathname);
}

function selects(selection: ValueSelection, name: string): boolean {
  switch (selection.kind) {
    case 'none':
      return false;
    case 'all':
      return true;
    case 'only':
      return selection.names.includes(name.toLowerCase());
    case 'allExcept':
      return !selection.names.includes(name.toLowerCase());
  }
}

function eitherSelects(behavior: EdgeBehavior, part: 'headers' | 'cookies' | 'queryStrings', name: string): boolean {
  const policy = behavior.originRequestPolicy;
  return selects(behavior.cachePolicy[part], name) || (policy !== undefined && selects(policy[part], name));
}

/**
 * The viewer headers and cookies that reach the origin: those in the cache key or the origin
 * request policy. Host among them only if selected; CloudFront adds its own Via, X-Amz-Cf-Id and
 * X-Forwarded-For, and says `Amazon CloudFront` as User-Agent unless the viewer's is forwarded.
 */
function originRequestHeaders(
  behavior: EdgeBehavior,
  viewer: FunctionRequest,
  origin: EdgeOrigin,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, { value }] of Object.entries(viewer.headers)) {
    if (NEVER_FORWARDED.has(name) || name === 'cookie' || name.startsWith('x-amz-cf-')) continue;
    if (eitherSelects(behavior, 'headers', name)) headers[name] = value;
  }
  const cookies = Object.entries(viewer.cookies).filter(([name]) => eitherSelects(behavior, 'cookies', name));
  if (cookies.length > 0) headers.cookie = cookies.map(([name, { value }]) => `${name}=${value}`).join('; ');
  headers['user-agent'] ??= 'Amazon CloudFront';
  headers.via = '2.0 local.cloudfront.net (CloudFront)';
  headers['x-amz-cf-id'] = 'local';
  headers['x-forwarded-for'] = '127.0.0.1';
  if (origin.kind === 's3') delete headers['x-forwarded-for'];
  return headers;
}

function forwardedQuery(behavior: EdgeBehavior, querystring: FunctionRequest['querystring']): string {
  return Object.entries(querystring)
    .filter(([name]) => eitherSelects(behavior, 'queryStrings', name))
    .map(([name, { value }]) =>
      value === '' ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(value)}`,
    )
    .join('&');
}

function cacheKey(behavior: EdgeBehavior, viewer: FunctionRequest): string {
  const policy = behavior.cachePolicy;
  const pick = (values: FunctionRequest['headers'], selection: ValueSelection) =>
    Object.entries(values)
      .filter(([name]) => selects(selection, name))
      .map(([name, { value }]) => `${name}=${value}`)
      .sort()
      .join('&');
  return [
    behavior.pathPattern,
    viewer.uri,
    pick(viewer.querystring, policy.queryStrings),
    pick(viewer.cookies, policy.cookies),
    pick(viewer.headers, policy.headers),
  ].join('|');
}

/**
 * How long CloudFront keeps an answer (null: not stored). s-maxage, else max-age, bounded by
 * MinTTL/MaxTTL; DefaultTTL without either; no-store/no-cache/private keep it only for a MinTTL
 * above 0. Errors are kept for ErrorCachingMinTTL. Expires is not modelled (Ghost sends none).
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html
 */
function ttlOf(
  policy: EdgeCachePolicy,
  answer: Answer,
  errorCaching: ReadonlyMap<number, number>,
): { ttlMs: number; staleIfErrorMs: number } | null {
  if (CACHED_ERRORS.has(answer.status)) {
    const seconds = errorCaching.get(answer.status) ?? DEFAULT_ERROR_CACHING_SECONDS;
    return seconds > 0 ? { ttlMs: seconds * 1000, staleIfErrorMs: 0 } : null;
  }
  if (![200, 203, 206, 300, 301, 410].includes(answer.status)) return null;
  const directives = parseCacheControl(headerValue(answer.headers['cache-control']));
  const staleIfErrorMs = (directives.get('stale-if-error') ?? 0) * 1000;
  const clamp = (seconds: number) => Math.min(Math.max(seconds, policy.minTtl), policy.maxTtl);
  let seconds: number;
  if (directives.has('no-store') || directives.has('no-cache') || directives.has('private')) seconds = policy.minTtl;
  else seconds = clamp(directives.get('s-maxage') ?? directives.get('max-age') ?? policy.defaultTtl);
  return seconds > 0 ? { ttlMs: seconds * 1000, staleIfErrorMs } : null;
}

function parseCacheControl(value: string): Map<string, number> {
  const directives = new Map<string, number>();
  for (const part of value.split(',')) {
    const [name = '', argument] = part.trim().toLowerCase().split('=');
    if (name) directives.set(name, argument === undefined ? 0 : Number(argument.replace(/"/g, '')) || 0);
  }
  return directives;
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

function parseQuery(query: string): FunctionRequest['querystring'] {
  const values: FunctionRequest['querystring'] = {};
  for (const [name, value] of new URLSearchParams(query)) values[name] = { value };
  return values;
}

function parseCookies(header: string): FunctionRequest['cookies'] {
  const cookies: FunctionRequest['cookies'] = {};
  for (const part of header.split(';')) {
    const [name, value] = splitOnce(part.trim(), '=');
    if (name) cookies[name] = { value };
  }
  return cookies;
}

function s3Error(status: number, code: string, message: string): Answer {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  return {
    kind: 'answer',
    status,
    headers: { 'content-type': 'application/xml', server: 'AmazonS3' },
    body: Buffer.from(body),
  };
}

function toEdgeHeaders(headers: Record<string, string | string[]>): EdgeHeaders {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      (Array.isArray(value) ? value : [value]).map((v) => ({ key: name, value: v })),
    ]),
  );
}

function textAnswer(status: number, text: string): Answer {
  return { kind: 'answer', status, headers: { 'content-type': 'text/plain' }, body: Buffer.from(text) };
}

function withHeader(answer: Answer, name: string, value: string): Answer {
  return { ...answer, headers: { ...answer.headers, [name]: value } };
}

function sendAnswer(res: ServerResponse, answer: Answer, method: string): void {
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
