import { MirrorFetchError } from '../errors.js';
import { personalReason } from './mirrorRules.js';

/** What Ghost answered an anonymous reader for one path, as the mirror takes it. */
export type FetchOutcome =
  /** A public answer: stored as it is. */
  | { kind: 'page'; body: Buffer; contentType: string; cacheControl: string | undefined }
  /** Nothing to serve here any more (404, 410, or a redirect elsewhere): removed from the mirror. */
  | { kind: 'gone'; status: number }
  /** A per-reader answer (cookie, private): never stored, and removed if an older copy is there. */
  | { kind: 'personal'; reason: string };

export interface PageFetcherOptions {
  /** Where Ghost is reached without CloudFront: the gate inside the task, e.g. `http://127.0.0.1:8080`. */
  originUrl: string;
  /** Ghost's configured url: its host is sent as `Host`, its scheme as `X-Forwarded-Proto`. */
  siteUrl: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * Fetches pages as an anonymous reader would get them through CloudFront: the site's Host and
 * scheme, no cookie, no authorization, uncompressed (CloudFront compresses for viewers). Ghost
 * being unavailable (5xx, 429, a reset, a timeout) throws MirrorFetchError, so a page is never
 * removed because Ghost was down.
 */
export class PageFetcher {
  readonly #options: PageFetcherOptions;
  readonly #site: URL;
  readonly #fetch: typeof fetch;

  constructor(options: PageFetcherOptions) {
    this.#options = options;
    this.#site = new URL(options.siteUrl);
    this.#fetch = options.fetch ?? fetch;
  }

  /** `path` is the viewer path (with the site's subdirectory), percent-encoded. */
  async fetch(path: string): Promise<FetchOutcome> {
    let response: Response;
    try {
      response = await this.#fetch(new URL(path, this.#options.originUrl), {
        redirect: 'manual',
        headers: {
          Host: this.#site.host,
          'X-Forwarded-Proto': this.#site.protocol.replace(':', ''),
          'X-Forwarded-Host': this.#site.host,
          'Accept-Encoding': 'identity',
          'User-Agent': 'ghost-ha-mirror',
        },
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (error) {
      throw new MirrorFetchError(path, `Ghost did not answer ${path}`, { cause: error });
    }
    const { status } = response;
    if (status === 200) {
      const reason = personalReason(response.headers);
      const body = Buffer.from(await response.arrayBuffer());
      if (reason) return { kind: 'personal', reason };
      return {
        kind: 'page',
        body,
        contentType: response.headers.get('content-type') ?? 'application/octet-stream',
        cacheControl: response.headers.get('cache-control') ?? undefined,
      };
    }
    await response.body?.cancel();
    if (status === 404 || status === 410) return { kind: 'gone', status };
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location') ?? '';
      if (this.#pointsToItself(path, location)) {
        // A redirect to the same path on another scheme or host means the Host/X-Forwarded-Proto
        // we send is not what Ghost expects: a configuration problem, not a removed page.
        throw new MirrorFetchError(path, `Ghost redirects ${path} to ${location}: check SITE_URL against Ghost's url`);
      }
      return { kind: 'gone', status };
    }
    throw new MirrorFetchError(path, `Ghost answered ${status} for ${path}`);
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
