import GhostAdminAPI, { type GhostAdminApi } from '@tryghost/admin-api';
import { ConfigError, GhostApiError } from './errors.js';
import { ghostAdminToken, isAdminApiKey } from './ghostAdminToken.js';

export type ContentResource = 'posts' | 'pages';

export interface GhostPost {
  id: string;
  uuid?: string;
  title: string;
  slug: string;
  status: string;
  url?: string;
  [field: string]: unknown;
}

export interface Pagination {
  page: number;
  limit: number | 'all';
  pages: number;
  total: number;
  next: number | null;
}

export interface BrowseOptions {
  filter?: string;
  /** Ghost 6 lowers any larger value (and `all`) to 100 unless configured otherwise. */
  limit?: number;
  page?: number;
  fields?: string;
  formats?: string;
  include?: string;
  order?: string;
}

export interface BulkDeleteResult {
  successful: number;
  unsuccessful: number;
  errors: unknown[];
}

export interface GhostAdminClientOptions {
  /** The site URL, e.g. `https://blog.example.com` or `https://example.com/blog`. */
  url: string;
  /** The integration's Admin API key, `id:secret`. */
  adminApiKey: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  /** `Accept-Version` sent to Ghost; default `v5.0`, which Ghost 5 and 6 both accept. */
  acceptVersion?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * The Ghost Admin API for this project: `@tryghost/admin-api` for the resources it covers, and the
 * same authentication for what it lacks (bulk delete by filter). Requests go through one
 * `fetch`-based function so that every failure becomes a GhostApiError without headers or token.
 */
export class GhostAdminClient {
  readonly url: string;
  readonly sdk: GhostAdminApi;
  readonly #adminApiKey: string;
  readonly #timeoutMs: number;
  readonly #acceptVersion: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;

  constructor(options: GhostAdminClientOptions) {
    this.url = validateSiteUrl(options.url);
    if (!isAdminApiKey(options.adminApiKey)) {
      throw new ConfigError([
        "'adminApiKey' must be the Admin API key of a custom integration, 'id:secret' (24 and 64 hex characters). " +
          'E.g. 6489f3f0a1b2c3d4e5f60718:0123…cdef, from Ghost Admin → Settings → Integrations',
      ]);
    }
    this.#adminApiKey = options.adminApiKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#acceptVersion = options.acceptVersion ?? 'v5.0';
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
    this.sdk = GhostAdminAPI({
      url: this.url,
      key: this.#adminApiKey,
      version: this.#acceptVersion,
      userAgent: 'ghost-ha',
      generateToken: (key) => ghostAdminToken(key, this.#now()),
      makeRequest: (request) =>
        this.#send(request.method, request.url, {
          params: request.params,
          body: request.data,
          headers: request.headers,
        }),
    });
  }

  async site(): Promise<Record<string, unknown>> {
    return this.sdk.site.read();
  }

  async browse(
    resource: ContentResource,
    options: BrowseOptions = {},
  ): Promise<{ items: GhostPost[]; pagination: Pagination }> {
    const result = await this.sdk[resource].browse({ ...options });
    return { items: [...result] as GhostPost[], pagination: result.meta.pagination };
  }

  /** Every item matching the filter, one page at a time (at most 100 per page, Ghost 6's cap). */
  async *browseAll(resource: ContentResource, options: Omit<BrowseOptions, 'page'> = {}): AsyncGenerator<GhostPost[]> {
    const limit = Math.min(options.limit ?? 100, 100);
    let page: number | null = 1;
    while (page !== null) {
      const { items, pagination } = await this.browse(resource, { ...options, limit, page });
      if (items.length > 0) yield items;
      page = pagination.next;
    }
  }

  async count(resource: ContentResource, filter?: string): Promise<number> {
    const { pagination } = await this.browse(resource, { ...(filter ? { filter } : {}), limit: 1, fields: 'id' });
    return pagination.total;
  }

  async add(
    resource: ContentResource,
    data: Record<string, unknown>,
    options?: { source?: 'html' },
  ): Promise<GhostPost> {
    return (await this.sdk[resource].add(data, options ? { ...options } : undefined)) as GhostPost;
  }

  async edit(
    resource: ContentResource,
    data: Record<string, unknown> & { id: string; updated_at: string },
  ): Promise<GhostPost> {
    return (await this.sdk[resource].edit(data)) as GhostPost;
  }

  async delete(resource: ContentResource, id: string): Promise<void> {
    await this.sdk[resource].delete({ id });
  }

  /**
   * Ghost's bulk delete: one transaction, no per-item webhooks (only `site.changed`). Ghost would
   * delete everything without a filter, so one is required here.
   */
  async bulkDelete(resource: ContentResource, filter: string): Promise<BulkDeleteResult> {
    if (filter.trim() === '') throw new TypeError('bulkDelete needs a non-empty NQL filter');
    const response = (await this.request('DELETE', `/${resource}/`, { params: { filter } })) as {
      bulk?: { meta?: { stats?: { successful?: number; unsuccessful?: number }; errors?: unknown[] } };
    };
    const meta = response?.bulk?.meta;
    return {
      successful: meta?.stats?.successful ?? 0,
      unsuccessful: meta?.stats?.unsuccessful ?? 0,
      errors: meta?.errors ?? [],
    };
  }

  async addWebhook(webhook: {
    event: string;
    target_url: string;
    secret?: string;
    name?: string;
  }): Promise<Record<string, unknown>> {
    return this.sdk.webhooks.add({ ...webhook });
  }

  /** Any Admin API call by path relative to `/ghost/api/admin`, e.g. `('GET', '/tags/')`. */
  async request(
    method: string,
    path: string,
    options: { params?: Record<string, unknown>; body?: unknown } = {},
  ): Promise<unknown> {
    return this.#send(method, `${this.url}/ghost/api/admin${path}`, {
      ...options,
      headers: {
        Authorization: `Ghost ${ghostAdminToken(this.#adminApiKey, this.#now())}`,
        'Accept-Version': this.#acceptVersion,
      },
    });
  }

  /**
   * An Admin API answer that is not JSON (e.g. `GET /redirects/download/`, YAML or JSON text), read
   * as text up to `maxBytes`; a longer answer is refused while reading.
   */
  async requestText(method: string, path: string, options: { maxBytes: number }): Promise<string> {
    const operation = `${method.toUpperCase()} ${path}`;
    let response: Response;
    try {
      response = await this.#fetch(`${this.url}/ghost/api/admin${path}`, {
        method,
        headers: {
          Authorization: `Ghost ${ghostAdminToken(this.#adminApiKey, this.#now())}`,
          'Accept-Version': this.#acceptVersion,
        },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? describeNetworkError(error) : String(error);
      throw new GhostApiError(operation, { message: `${reason} (is Ghost reachable at ${this.url}?)` });
    }
    if (!response.ok) throw responseError(operation, response, await response.text());
    const reader = response.body?.getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const next = await reader?.read();
        if (!next || next.done) break;
        total += next.value.byteLength;
        if (total > options.maxBytes) {
          throw new GhostApiError(operation, {
            status: response.status,
            message: `the answer is longer than ${options.maxBytes} bytes`,
          });
        }
        parts.push(next.value);
      }
    } finally {
      await reader?.cancel().catch(() => undefined);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  async #send(
    method: string,
    url: string,
    options: {
      params?: Record<string, unknown> | undefined;
      body?: unknown;
      headers?: Record<string, string> | undefined;
    },
  ): Promise<unknown> {
    const target = new URL(url);
    for (const [key, value] of Object.entries(options.params ?? {})) {
      if (value !== undefined) target.searchParams.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
    const operation = `${method.toUpperCase()} ${target.pathname.replace(/^.*\/ghost\/api\/admin/, '')}`;
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined && method.toUpperCase() !== 'GET') {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await this.#fetch(target, {
        method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? describeNetworkError(error) : String(error);
      throw new GhostApiError(operation, { message: `${reason} (is Ghost reachable at ${this.url}?)` });
    }
    const text = await response.text();
    if (!response.ok) throw responseError(operation, response, text);
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new GhostApiError(operation, { status: response.status, message: 'response is not JSON' });
    }
  }
}

function validateSiteUrl(url: string): string {
  const example = "E.g. 'https://blog.example.com'";
  if (typeof url !== 'string' || url === '') throw new ConfigError([`'url' is required. ${example}`]);
  if (!/^https?:\/\//.test(url)) throw new ConfigError([`'url' must start with http:// or https://. ${example}`]);
  if (url.endsWith('/')) throw new ConfigError([`'url' must not have a trailing slash. ${example}`]);
  if (url.endsWith('/ghost')) throw new ConfigError([`'url' is the site URL, without /ghost. ${example}`]);
  return url;
}

function responseError(operation: string, response: Response, text: string): GhostApiError {
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location') ?? 'elsewhere';
    return new GhostApiError(operation, {
      status: response.status,
      message: `Ghost redirected to ${location}; use the site URL Ghost is configured with (url), including https if it is https`,
    });
  }
  let ghostType: string | undefined;
  let message = text.slice(0, 200) || response.statusText;
  try {
    const parsed = JSON.parse(text) as { errors?: { type?: string; message?: string; context?: string }[] };
    const first = parsed.errors?.[0];
    if (first) {
      ghostType = first.type;
      message = [first.message, first.context].filter(Boolean).join(' — ');
    }
  } catch {
    // Not Ghost's JSON error format (a proxy's page, say): keep the start of the text.
  }
  return new GhostApiError(operation, { status: response.status, ghostType, message });
}

function describeNetworkError(error: Error): string {
  if (error.name === 'TimeoutError') return 'timed out';
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}
