import { createHmac, timingSafeEqual } from 'node:crypto';
import { SecretMalformedError, type SecretsLoader } from '@ghost-ha/core';
import type { BackupLocation } from './BackupStore.js';

/** The S3 user metadata (`x-amz-meta-hmac-sha256`) that carries a backup's signature. */
export const SIGNATURE_METADATA = 'hmac-sha256';

export interface BackupSignerOptions {
  secrets: SecretsLoader;
  /** Secrets Manager secret holding the signing key (a plain string, at least 32 characters). */
  secretId: string;
}

const MIN_KEY_LENGTH = 32;

/**
 * Signs and checks backups with HMAC-SHA256 over the object key, a newline and the stored bytes.
 * The key lives in Secrets Manager, readable by the two content functions' roles only: a principal
 * that can write to the bucket but not read the key cannot make a backup restore accepts, and the key
 * in the signature means a signed backup copied under another key (another site's prefix) no longer
 * verifies. A missing or short key fails closed: nothing is written, nothing is restored.
 */
export class BackupSigner {
  readonly #options: BackupSignerOptions;

  constructor(options: BackupSignerOptions) {
    this.#options = options;
  }

  get secretId(): string {
    return this.#options.secretId;
  }

  /** Hex HMAC of `body` stored at `location`. */
  async sign(location: BackupLocation, body: Uint8Array): Promise<string> {
    return mac(await this.#key(), location, body).toString('hex');
  }

  /** True when `signature` (hex) is the HMAC of `body` at `location`; compared in constant time. */
  async verify(location: BackupLocation, body: Uint8Array, signature: string): Promise<boolean> {
    const expected = mac(await this.#key(), location, body);
    if (!/^[0-9a-f]{64}$/i.test(signature)) return false;
    return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
  }

  async #key(): Promise<string> {
    const key = (await this.#options.secrets.getString(this.#options.secretId)).trim();
    if (key.length < MIN_KEY_LENGTH) {
      throw new SecretMalformedError(
        this.#options.secretId,
        `the backup signing key is shorter than ${MIN_KEY_LENGTH} characters (e.g. the output of \`openssl rand -hex 32\`)`,
      );
    }
    return key;
  }
}

function mac(key: string, location: BackupLocation, body: Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${location.key}\n`).update(body).digest();
}
