import { GhostAdminClient, GhostApiError, type SecretsLoader } from '@ghost-ha/core';
import { FilterError, GhostUnavailableError } from './errors.js';
import { siteName } from './siteName.js';

/** A Ghost site as the secret describes it, with a client for its Admin API. */
export interface GhostSite {
  readonly url: string;
  /** Host and subdirectory, the form a confirmation uses. */
  readonly name: string;
  readonly client: GhostAdminClient;
}

export interface GhostSiteConnectorOptions {
  secrets: SecretsLoader;
  secretId: string;
  createClient?: (options: { url: string; adminApiKey: string }) => GhostAdminClient;
}

/**
 * Turns the Secrets Manager secret into a client. The secret is cached by the loader across warm
 * invocations; the client is rebuilt only when the secret's value changed (a rotated key).
 */
export class GhostSiteConnector {
  readonly #options: GhostSiteConnectorOptions;
  #cached: { url: string; adminApiKey: string; site: GhostSite } | undefined;

  constructor(options: GhostSiteConnectorOptions) {
    this.#options = options;
  }

  async connect(): Promise<GhostSite> {
    const { url, adminApiKey } = await this.#options.secrets.getJson(this.#options.secretId, ['url', 'adminApiKey']);
    if (this.#cached?.url === url && this.#cached.adminApiKey === adminApiKey) return this.#cached.site;
    const createClient = this.#options.createClient ?? ((options) => new GhostAdminClient(options));
    const site = { url, name: siteName(url), client: createClient({ url, adminApiKey }) };
    this.#cached = { url, adminApiKey, site };
    return site;
  }

  /**
   * Explains a failed Admin API call in the operator's terms. A rejected key also drops the cached
   * secret, so the next invocation reads a rotated key. When the call carried the operator's
   * `filter`, a 400/422 is Ghost refusing that filter: a FilterError naming it and Ghost's reason.
   */
  explain(error: unknown, site: GhostSite, consequence: string, filter?: string): Error {
    if (!(error instanceof GhostApiError)) return error instanceof Error ? error : new Error(String(error));
    if (filter !== undefined && (error.status === 400 || error.status === 422)) {
      const ghostMessage = error.message.replace(/^Ghost Admin API .*? failed \(HTTP \d+\): /, '');
      return new FilterError(filter, `${ghostMessage}. ${consequence}`.trim(), { cause: error });
    }
    if (error.status === 401 || error.status === 403) {
      this.#options.secrets.invalidate(this.#options.secretId);
      this.#cached = undefined;
      return new GhostUnavailableError(
        `Ghost at ${site.url} rejected the Admin API key from secret '${this.#options.secretId}' ` +
          `(HTTP ${error.status}). Check that the key belongs to a custom integration of this site. ${consequence}`,
        { cause: error },
      );
    }
    if (error.status === undefined || error.status >= 500) {
      return new GhostUnavailableError(`Ghost at ${site.url} is unavailable: ${error.message}. ${consequence}`, {
        cause: error,
      });
    }
    return new GhostUnavailableError(`${error.message}. ${consequence}`, { cause: error });
  }
}
