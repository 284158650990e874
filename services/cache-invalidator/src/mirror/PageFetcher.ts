import { MirrorBodyTooLargeError, MirrorFetchError } from '../errors.js';
import { SitePaths } from '../sitePaths.js';
import {
  cappedCacheControl,
  isParsedType,
  mirrorPathProblem,
  personalReason,
  storedContentType,
} from './mirrorRules.js';

/** What lets Ghost answer `304 Not Modified` to the mirror's next request for a file. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** The headers the mirror stores with an object. */
export interface StoredHeaders {
  contentType: string;
  /** Always `public, max-age=<n>` with n capped (`cappedCacheControl`). */
  cacheControl: string;
  validators: Validators;
}

/** A file's body, read as it streams: at most `maxBytes`, else `MirrorBodyTooLargeError` while reading. */
export interface FileBody {
  /** Declared by Ghost (Content-Length), when it did. */
  length: number | undefined;
  chunks: AsyncIterable<Uint8Array>;
  /** Stops reading (a file not stored after all). */
  cancel(): Promise<void>;
}

/** What Ghost answered an anonymous reader for one path, as the mirror takes it. */
export type FetchOutcome =
  /** HTML, CSS or XML, read whole (at most `maxPageBytes`) for the paths it leads to. */
  | ({ kind: 'page'; body: Buffer } & StoredHeaders)
  /** Anything else allowed (images, fonts, media, scripts, feeds): streamed to the bucket unread. */
  | ({ kind: 'file'; file: FileBody } & StoredHeaders)
  /** `304` to a conditional request: the mirror's copy is Ghost's current one. */
  | { kind: 'unchanged' }
  /** Nothing to serve here any more (404, 410, or a redirect): removed; `location` is a redirect's target on this site. */
  | { kind: 'gone'; status: number; location?: string }
  /** A per-reader answer (cookie, private): never stored, and removed if an older copy is there. */
  | { kind: 'personal'; reason: string }
  /** Never stored (removed if an older copy is there): a path or answer outside what the mirror takes. */
  | { kind: 'refused'; reason: string };

export interface PageFetcherOptions {
  /** Where Ghost is reached without CloudFront: the gate inside the task, e.g. `http://127.0.0.1:8080`. */
  originUrl: string;
  /** Ghost's configured url: its host is sent as `Host`, its scheme as `X-Forwarded-Proto`. */
  siteUrl: string;
  /** Longest wait for the answer's headers, and between two chunks of its body. */
  timeoutMs: number;
  /** Largest HTML/CSS/XML body read (it is held in memory to find links). */
  maxPageBytes: number;
  /** Largest file streamed to the bucket. */
  maxFileBytes: number;
  /** Longest `max-age` stored with an object. */
  maxCacheSeconds: number;
  fetch?: typeof fetch;
}

/**
 * Fetches pages as an anonymous reader would get them through CloudFront: the site's Host and
 * scheme, no cookie, no authorization, uncompressed (CloudFront compresses for viewers). It only
 * ever asks the origin for a validated path of this site (`mirrorPathProblem`), checked again after
 * the URL is built; redirects are never followed by the HTTP client (a target on this site is only
 * reported back). Bodies are bounded: pages by `maxPageBytes`, files by `maxFileBytes`, both
 * refused as soon as Content-Length or the bytes read pass the bound. Ghost being unavailable (5xx,
 * 429, a reset, a timeout) throws MirrorFetchError, so a page is never removed because Ghost was down.
 */
export class PageFetcher {
  readonly #options: PageFetcherOptions;
  readonly #site: URL;
  readonly #sitePaths: SitePaths;
  readonly #origin: string;
  readonly #fetch: typeof fetch;

  constructor(options: PageFetcherOptions) {
    this.#options = options;
    this.#site = new URL(options.siteUrl);
    this.#sitePaths = new SitePaths(options.siteUrl);
    this.#origin = new URL(options.originUrl).origin;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Why the mirror would not fetch this viewer path, or undefined when it would. */
  problemWith(path: string): string | undefined {
    const base = this.#sitePaths.base;
    if (!path.startsWith(`${base}/`)) return `is not under the site's path ${base}/`;
    return mirrorPathProblem(path.slice(base.length));
  }

  /** The origin's URL for a viewer path: the origin plus the validated path, nothing a parser could read as another host. */
  urlOf(path: string): URL | undefined {
    if (this.problemWith(path) !== undefined) return undefined;
    const url = new URL(`${this.#origin}${path}`);
    if (url.origin !== this.#origin || url.pathname !== path || url.search !== '' || url.hash !== '') return undefined;
    return url;
  }

  /**
   * `path` is the viewer path (with the site's subdirectory), percent-encoded. With `conditional`
   * (the stored copy's validators) Ghost may answer `unchanged`.
   */
  async fetch(path: string, conditional?: Validators): Promise<FetchOutcome> {
    return this.#fetchPath(path, conditional, false);
  }

  /**
   * Ghost's own themed 404 page: the body Ghost answers (status 404) for `path`, a path that does
   * not exist, as a `page` outcome (HTML only, at most `maxPageBytes`, stored `public, max-age=0`:
   * Ghost marks its error pages private, yet the page is the same for every reader unless it sets a
   * cookie). Any other answer but a 5xx (which throws) is `refused`.
   */
  async fetchNotFoundPage(path: string): Promise<FetchOutcome> {
    return this.#fetchPath(path, undefined, true);
  }

  async #fetchPath(path: string, conditional: Validators | undefined, notFoundPage: boolean): Promise<FetchOutcome> {
    const url = this.urlOf(path);
    if (!url) return { kind: 'refused', reason: `the path ${this.problemWith(path) ?? 'leaves the site'}` };
    const controller = new AbortController();
    const { timeoutMs } = this.#options;
    let timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const stopTimer = () => clearTimeout(timer);
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error(`no data within ${timeoutMs} ms`)), timeoutMs);
    };
    let response: Response;
    try {
      response = await this.#fetch(url, {
        redirect: 'manual',
        headers: {
          Host: this.#site.host,
          'X-Forwarded-Proto': this.#site.protocol.replace(':', ''),
          'X-Forwarded-Host': this.#site.host,
          'Accept-Encoding': 'identity',
          'User-Agent': 'ghost-ha-mirror',
          ...(conditional?.etag ? { 'If-None-Match': conditional.etag } : {}),
          ...(conditional?.lastModified ? { 'If-Modified-Since': conditional.lastModified } : {}),
          // Fetch adds `Cache-Control: no-cache` to a conditional request that names none
          // (https://fetch.spec.whatwg.org/#http-network-or-cache-fetch), and Ghost's static files
          // (express's `fresh`) answer 200 instead of 304 to it.
          ...(conditional ? { 'Cache-Control': 'max-age=0' } : {}),
        },
        signal: controller.signal,
      });
    } catch (error) {
      stopTimer();
      throw new MirrorFetchError(path, `Ghost did not answer ${path}`, { cause: error });
    }
    let handedOver = false;
    try {
      const outcome = notFoundPage
        ? await this.#notFoundPageOf(path, response, rearm, stopTimer)
        : await this.#outcomeOf(path, response, conditional, rearm, stopTimer);
      handedOver = outcome.kind === 'file';
      return outcome;
    } finally {
      if (!handedOver) {
        stopTimer();
        await response.body?.cancel().catch(() => undefined);
      }
    }
  }

  async #outcomeOf(
    path: string,
    response: Response,
    conditional: Validators | undefined,
    rearm: () => void,
    stopTimer: () => void,
  ): Promise<FetchOutcome> {
    const { status } = response;
    if (status === 200) {
      const reason = personalReason(response.headers);
      if (reason) return { kind: 'personal', reason };
      // Ghost's `/public/` files carry an ETag (a hash of their content) but never answer 304: the
      // same ETag is the same content, so the body is not read again.
      if (conditional?.etag && response.headers.get('etag') === conditional.etag) return { kind: 'unchanged' };
      const contentType = storedContentType(response.headers.get('content-type'));
      if (!contentType) {
        return {
          kind: 'refused',
          reason: `content-type ${response.headers.get('content-type') ?? '(none)'} is not mirrored`,
        };
      }
      const headers: StoredHeaders = {
        contentType,
        cacheControl: cappedCacheControl(response.headers.get('cache-control'), this.#options.maxCacheSeconds),
        validators: validatorsOf(response.headers),
      };
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      const length = Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
      const parsed = isParsedType(contentType);
      const maxBytes = parsed ? this.#options.maxPageBytes : this.#options.maxFileBytes;
      if (length !== undefined && length > maxBytes) {
        return { kind: 'refused', reason: `${length} bytes, more than the ${maxBytes} the mirror takes` };
      }
      const chunks = boundedChunks(path, response, maxBytes, rearm, stopTimer);
      if (!parsed) {
        return {
          kind: 'file',
          file: {
            length,
            chunks,
            cancel: async () => {
              stopTimer();
              await response.body?.cancel().catch(() => undefined);
            },
          },
          ...headers,
        };
      }
      try {
        const parts: Uint8Array[] = [];
        for await (const chunk of chunks) parts.push(chunk);
        return { kind: 'page', body: Buffer.concat(parts), ...headers };
      } catch (error) {
        if (error instanceof MirrorBodyTooLargeError) return { kind: 'refused', reason: error.message };
        throw error;
      }
    }
    if (status === 304) return { kind: 'unchanged' };
    if (status === 404 || status === 410) return { kind: 'gone', status };
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location') ?? '';
      if (this.#pointsToItself(path, location)) {
        // A redirect to the same path on another scheme or host means the Host/X-Forwarded-Proto
        // we send is not what Ghost expects: a configuration problem, not a removed page.
        throw new MirrorFetchError(path, `Ghost redirects ${path} to ${location}: check SITE_URL against Ghost's url`);
      }
      const target = this.#sitePathOf(location);
      return { kind: 'gone', status, ...(target ? { location: target } : {}) };
    }
    throw new MirrorFetchError(path, `Ghost answered ${status} for ${path}`, {
      siteUnavailable: status === 503 || status === 429,
    });
  }

  async #notFoundPageOf(
    path: string,
    response: Response,
    rearm: () => void,
    stopTimer: () => void,
  ): Promise<FetchOutcome> {
    const { status } = response;
    if (status >= 500 || status === 429) {
      throw new MirrorFetchError(path, `Ghost answered ${status} for ${path}`, {
        siteUnavailable: status === 503 || status === 429,
      });
    }
    if (status !== 404) return { kind: 'refused', reason: `Ghost answered ${status}, not its 404 page` };
    if (response.headers.getSetCookie().length > 0 || response.headers.has('set-cookie')) {
      return { kind: 'personal', reason: 'sets a cookie' };
    }
    const contentType = storedContentType(response.headers.get('content-type'));
    if (!contentType?.startsWith('text/html')) {
      return {
        kind: 'refused',
        reason: `content-type ${response.headers.get('content-type') ?? '(none)'} is not a page`,
      };
    }
    const { maxPageBytes } = this.#options;
    try {
      const parts: Uint8Array[] = [];
      for await (const chunk of boundedChunks(path, response, maxPageBytes, rearm, stopTimer)) parts.push(chunk);
      return {
        kind: 'page',
        body: Buffer.concat(parts),
        contentType,
        cacheControl: 'public, max-age=0',
        validators: {},
      };
    } catch (error) {
      if (error instanceof MirrorBodyTooLargeError) return { kind: 'refused', reason: error.message };
      throw error;
    }
  }

  /** A redirect's target as a viewer path, when it is a path of this site the mirror would fetch. */
  #sitePathOf(location: string): string | undefined {
    if (/^\s*[\\/]{2}/.test(location) || location.includes('\\')) return undefined;
    try {
      const target = new URL(location, this.#site);
      if (target.origin !== this.#site.origin || target.search !== '') return undefined;
      return this.problemWith(target.pathname) === undefined ? target.pathname : undefined;
    } catch {
      return undefined;
    }
  }

  #pointsToItself(path: string, location: string): boolean {
    try {
      const target = new URL(location, this.#site);
      return target.pathname === path.split('?')[0] && target.href !== new URL(path, this.#site).href;
    } catch {
      return false;
    }
  }
}

/** The body's chunks, failing once more than `maxBytes` arrived; each chunk re-arms the idle timeout. */
async function* boundedChunks(
  path: string,
  response: Response,
  maxBytes: number,
  rearm: () => void,
  stopTimer: () => void,
): AsyncGenerator<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return;
  let total = 0;
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        throw new MirrorFetchError(path, `Ghost's answer for ${path} broke off`, { cause: error });
      }
      if (next.done) return;
      total += next.value.byteLength;
      if (total > maxBytes) {
        throw new MirrorBodyTooLargeError(`more than the ${maxBytes} bytes the mirror takes`);
      }
      rearm();
      yield next.value;
    }
  } finally {
    stopTimer();
    await reader.cancel().catch(() => undefined);
  }
}

function validatorsOf(headers: Headers): Validators {
  const safe = (value: string | null) => (value && /^[\x20-\x7e]{1,200}$/.test(value) ? value : undefined);
  const etag = safe(headers.get('etag'));
  const lastModified = safe(headers.get('last-modified'));
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}
