import { GhostApiError, ghostAdminToken } from '@ghost-ha/core';
import type { GhostExport } from './ContentBackup.js';

/**
 * `POST /ghost/api/admin/db/` with a staff access token: Ghost's own content import, the one way
 * back that keeps a post's uuid (so preview links and `comment_id` stay), `created_at`, a sent
 * post's `sent` status, `email_only`, tiers, newsletter and the order of tags and authors. Ghost
 * queues the import as a background job and answers at once; it runs in one transaction.
 */
export class GhostDbImport {
  readonly #url: string;
  readonly #staffAccessToken: string;
  readonly #fetch: typeof fetch;

  constructor(options: { url: string; staffAccessToken: string; fetch?: typeof fetch }) {
    this.#url = options.url;
    this.#staffAccessToken = options.staffAccessToken;
    this.#fetch = options.fetch ?? fetch;
  }

  async start(file: GhostExport, fileName: string): Promise<void> {
    const form = new FormData();
    form.append('importfile', new Blob([JSON.stringify({ db: [file] })], { type: 'application/json' }), fileName);
    const operation = 'POST /db/';
    let response: Response;
    try {
      response = await this.#fetch(`${this.#url}/ghost/api/admin/db/`, {
        method: 'POST',
        headers: {
          Authorization: `Ghost ${ghostAdminToken(this.#staffAccessToken)}`,
          'Accept-Version': 'v5.0',
        },
        body: form,
        redirect: 'manual',
        signal: AbortSignal.timeout(120_000),
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
  }
}
