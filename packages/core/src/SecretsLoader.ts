import {
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretAccessDeniedError, SecretError, SecretMalformedError, SecretNotFoundError } from './errors.js';

export interface SecretsLoaderOptions {
  client: SecretsManagerClient;
  /** How long a value is reused before Secrets Manager is asked again. Default 5 minutes. */
  ttlMs?: number;
  /**
   * How long one read may take before it fails. A hung or half-open connection to Secrets Manager
   * must not hold a reload for ever: callers that share one read (a rotation follower) would never
   * read again. Default 10 s.
   */
  timeoutMs?: number;
  now?: () => number;
}

/** One version of a secret as Secrets Manager holds it under a staging label. */
export interface SecretVersion {
  value: string;
  versionId: string | undefined;
  /** When this version was created (ms since epoch), when Secrets Manager says. */
  createdAt: number | undefined;
}

interface CacheEntry {
  expiresAt: number;
  value: Promise<string>;
}

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException']);

/**
 * Reads string or JSON secrets, caching each for a TTL (Lambdas reuse them across warm
 * invocations) and sharing one request between concurrent readers. Failures are not cached.
 */
export class SecretsLoader {
  readonly #client: SecretsManagerClient;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(options: SecretsLoaderOptions) {
    this.#client = options.client;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async getString(secretId: string): Promise<string> {
    const cached = this.#cache.get(secretId);
    if (cached && cached.expiresAt > this.#now()) return cached.value;
    const value = this.#fetch(secretId);
    this.#cache.set(secretId, { expiresAt: this.#now() + this.#ttlMs, value });
    value.catch(() => this.#cache.delete(secretId));
    return value;
  }

  /** The secret parsed as a JSON object; each `requiredKeys` entry must be a non-empty string. */
  async getJson<K extends string>(secretId: string, requiredKeys: readonly K[] = []): Promise<Record<K, string>> {
    const text = await this.getString(secretId);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The parser's message quotes the text, which is the secret: say only where it broke.
      throw new SecretMalformedError(
        secretId,
        'it is not valid JSON. E.g. {"url":"https://site.com","adminApiKey":"id:secret"}',
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new SecretMalformedError(secretId, 'it must be a JSON object. E.g. {"password":"..."}');
    }
    const record = parsed as Record<string, unknown>;
    const missing = requiredKeys.filter((key) => typeof record[key] !== 'string' || record[key] === '');
    if (missing.length > 0) {
      throw new SecretMalformedError(secretId, `it lacks the string key(s) ${missing.map((k) => `'${k}'`).join(', ')}`);
    }
    return record as Record<K, string>;
  }

  /**
   * The version under a staging label (`AWSCURRENT`, `AWSPREVIOUS`), read afresh (never cached), for
   * services that follow a rotation. Undefined when no version carries the label (a secret never
   * rotated has no `AWSPREVIOUS`: Secrets Manager answers ResourceNotFoundException,
   * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
   */
  async getVersion(secretId: string, versionStage: string): Promise<SecretVersion | undefined> {
    let response: GetSecretValueCommandOutput;
    try {
      response = await this.#read({ SecretId: secretId, VersionStage: versionStage });
    } catch (error) {
      const translated = translate(secretId, error, this.#timeoutMs);
      if (translated instanceof SecretNotFoundError && versionStage !== 'AWSCURRENT') return undefined;
      throw translated;
    }
    return {
      value: secretText(secretId, response),
      versionId: response.VersionId,
      createdAt: response.CreatedDate?.getTime(),
    };
  }

  /** Forgets cached values, e.g. after a credential was rejected and may have been rotated. */
  invalidate(secretId?: string): void {
    if (secretId === undefined) this.#cache.clear();
    else this.#cache.delete(secretId);
  }

  async #fetch(secretId: string): Promise<string> {
    let response: GetSecretValueCommandOutput;
    try {
      response = await this.#read({ SecretId: secretId });
    } catch (error) {
      throw translate(secretId, error, this.#timeoutMs);
    }
    return secretText(secretId, response);
  }

  #read(input: GetSecretValueCommandInput): Promise<GetSecretValueCommandOutput> {
    return this.#client.send(new GetSecretValueCommand(input), { abortSignal: AbortSignal.timeout(this.#timeoutMs) });
  }
}

function secretText(secretId: string, response: GetSecretValueCommandOutput): string {
  if (typeof response.SecretString === 'string') return response.SecretString;
  if (response.SecretBinary) return Buffer.from(response.SecretBinary).toString('utf8');
  throw new SecretMalformedError(secretId, 'it has no value (neither SecretString nor SecretBinary)');
}

function translate(secretId: string, error: unknown, timeoutMs: number): SecretError {
  const name = error instanceof Error ? error.name : 'UnknownError';
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new SecretError(
      `Reading secret '${secretId}' failed: Secrets Manager did not answer within ${timeoutMs} ms`,
      secretId,
      { cause: { name } },
    );
  }
  // The SDK error holds the raw response; keep only its name and message as the cause.
  const cause = error instanceof Error ? { name, message: error.message } : undefined;
  if (name === 'ResourceNotFoundException') return new SecretNotFoundError(secretId, { cause });
  if (ACCESS_DENIED.has(name)) return new SecretAccessDeniedError(secretId, { cause });
  const message = error instanceof Error ? error.message : String(error);
  return new SecretError(`Reading secret '${secretId}' failed: ${name}: ${message}`, secretId, { cause });
}
