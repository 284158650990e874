import { GhostApiError, ghostAdminToken } from '@ghost-ha/core';
import type { GhostExport } from './ContentBackup.js';

/**
 * Ghost's `/db` endpoints on a staff access token (integration keys are refused there).
 *
 * `export` reads the content export, every table as the database holds it, in one request. It asks
 * for the response uncompressed: gzipping several megabytes costs Ghost more time than sending them.
 *
 * `import` is Ghost's own content import, the one way back that keeps a post's uuid (so preview
 * links and `comment_id` stay), `created_at`, a sent post's `sent` status, `email_only`, tiers,
 * newsletter and the order of tags and authors. Ghost queues the import as a background job and
 * answers at once; it runs in one transaction.
 */
export class GhostDb {
  readonly #url: string;
  readonly #staffAccessToken: string;
  readonly #fetch: typeof fetch;

  constructor(options: { url: string; staffAccessToken: string; fetch?: typeof fetch }) {
    this.#url = options.url;
    this.#staffAccessToken = options.staffAccessToken;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The content export, with the optional tables named in `include` (e.g. `comments,emails`). */
  async export(include: string): Promise<GhostExport> {
    const text = await this.#send('GET', `/db/?include=${encodeURIComponent(include)}`, undefined, 60_000);
    const exported = (JSON.parse(text) as { db?: GhostExport[] }).db?.[0];
    if (!exported?.data || !exported.meta) {
      throw new GhostApiError('GET /db/', { status: 200, message: 'Ghost answered without an export' });
    }
    return exported;
  }

  /** Queues Ghost's import of `file`; resolves when Ghost accepted it, not when it is done. */
  async import(file: GhostExport, fileName: string): Promise<void> {
    const form = new FormData();
    form.append('importfile', new Blob([JSON.stringify({ db: [file] })], { type: 'application/json' }), fileName);
    await this.#send('POST', '/db/', form, 120_000);
  }

  async #send(method: string, path: string, body: FormData | undefined, timeoutMs: number): Promise<string> {
    const operation = `${method} ${path.replace(/\?.*$/, '')}`;
    let response: Response;
    try {
      response = await this.#fetch(`${this.#url}/ghost/api/admin${path}`, {
        method,
        headers: {
          Authorization: `Ghost ${ghostAdminToken(this.#staffAccessToken)}`,
          'Accept-Version': 'v5.0',
          'Accept-Encoding': 'identity',
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new GhostApiError(operation, { message: `${reason} (is Ghost reachable at ${this.#url}?)` });
    }
    const text = await response.text();
    if (!response.ok) {
      let message = text.slice(0, 300);
      let ghostType: string | undefined;
      try {
        const first = (JSON.parse(text) as { errors?: { message?: string; context?: string; type?: string }[] })
          .errors?.[0];
        if (first) {
          message = [first.message, first.context].filter(Boolean).join(' — ');
          ghostType = first.type;
        }
      } catch {
        // Not Ghost's JSON error format: keep the start of the text.
      }
      throw new GhostApiError(operation, { status: response.status, ghostType, message });
    }
    return text;
  }
}
