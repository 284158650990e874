import { GhostAdminClient, GhostApiError, isAdminApiKey, type SecretsLoader } from '@ghost-ha/core';
import { FilterError, GhostUnavailableError } from './errors.js';
import { GhostDb } from './GhostDb.js';
import { siteName } from './siteName.js';

/** A Ghost site as the secret describes it, with clients for its Admin API. */
export interface GhostSite {
  readonly url: string;
  /** Host and subdirectory, the form a confirmation uses. */
  readonly name: string;
  /** Posts, pages, tags: the integration's key, or the staff token when that is all the secret holds. */
  readonly client: GhostAdminClient;
  /**
   * `/db` (the content export and import) on a staff access token, a user's own key (Owner or
   * Administrator): the only credential Ghost lets use it. Undefined when the secret holds none.
   */
  readonly db: GhostDb | undefined;
}

export interface GhostSiteConnectorOptions {
  secrets: SecretsLoader;
  secretId: string;
  createClient?: (options: { url: string; adminApiKey: string }) => GhostAdminClient;
}

const SECRET_EXAMPLE =
  'E.g. {"url":"https://blog.example.com","adminApiKey":"<integration id:secret>","staffAccessToken":"<your user\'s id:secret>"}';

/**
 * Turns the Secrets Manager secret into clients. The secret is cached by the loader across warm
 * invocations; the clients are rebuilt only when the secret's value changed (a rotated key).
 */
export class GhostSiteConnector {
  readonly #options: GhostSiteConnectorOptions;
  #cached: { fingerprint: string; site: GhostSite } | undefined;

  constructor(options: GhostSiteConnectorOptions) {
    this.#options = options;
  }

  get secretId(): string {
    return this.#options.secretId;
  }

  async connect(): Promise<GhostSite> {
    const secret = await this.#options.secrets.getJson(this.#options.secretId, ['url']);
    const url = secret.url;
    const adminApiKey = stringOrUndefined(secret, 'adminApiKey');
    const staffAccessToken = stringOrUndefined(secret, 'staffAccessToken');
    const fingerprint = JSON.stringify([url, adminApiKey, staffAccessToken]);
    if (this.#cached?.fingerprint === fingerprint) return this.#cached.site;
    for (const [key, value] of [
      ['adminApiKey', adminApiKey],
      ['staffAccessToken', staffAccessToken],
    ] as const) {
      if (value !== undefined && !isAdminApiKey(value)) {
        throw new GhostUnavailableError(
          `Secret '${this.#options.secretId}': '${key}' must have the form id:secret (24 and 64 hex characters). ${SECRET_EXAMPLE}`,
        );
      }
    }
    const key = adminApiKey ?? staffAccessToken;
    if (key === undefined) {
      throw new GhostUnavailableError(
        `Secret '${this.#options.secretId}' holds neither 'adminApiKey' nor 'staffAccessToken'. ${SECRET_EXAMPLE}`,
      );
    }
    const createClient = this.#options.createClient ?? ((options) => new GhostAdminClient(options));
    const site: GhostSite = {
      url,
      name: siteName(url),
      client: createClient({ url, adminApiKey: key }),
      db: staffAccessToken === undefined ? undefined : new GhostDb({ url, staffAccessToken }),
    };
    this.#cached = { fingerprint, site };
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
      return new FilterError(filter, `${ghostMessage(error)}. ${consequence}`.trim(), { cause: error });
    }
    if (error.status === 401 || error.status === 403) {
      this.#options.secrets.invalidate(this.#options.secretId);
      this.#cached = undefined;
      return new GhostUnavailableError(
        `Ghost at ${site.url} refused the request ${error.operation} with a key from secret ` +
          `'${this.#options.secretId}' (HTTP ${error.status}: ${ghostMessage(error)}). 'adminApiKey' must be a custom ` +
          `integration's Admin API key; '/db' (the complete backup and the restore) needs 'staffAccessToken', the ` +
          `Owner's or an Administrator's own token. ${consequence}`,
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

/** Ghost's own words from a failed call, without our "Ghost Admin API … failed (HTTP n):" prefix. */
export function ghostMessage(error: GhostApiError): string {
  return error.message.replace(/^Ghost Admin API .*? failed \((?:HTTP \d+|no response)\): /, '');
}

function stringOrUndefined(secret: Record<string, unknown>, key: string): string | undefined {
  const value = secret[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
