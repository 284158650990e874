import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MirrorStoreError } from '../errors.js';

export interface MirrorStoreOptions {
  client: S3Client;
  bucket: string;
  /**
   * Key prefix, the S3 origin's OriginPath without its slash: CloudFront asks S3 for
   * `<OriginPath><viewer path>`, so `/` is the object `site/` and `/hello/` is `site/hello/`.
   */
  prefix: string;
}

/** A public page as the mirror keeps it. */
export interface MirroredPage {
  body: Buffer;
  contentType: string;
  cacheControl: string | undefined;
}

/**
 * The static mirror in S3: one object per viewer path, under the prefix CloudFront's OriginPath
 * adds. S3 decodes the request URI, so keys hold decoded paths; query strings are not part of a key.
 */
export class MirrorStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly #client: S3Client;

  constructor(options: MirrorStoreOptions) {
    this.#client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
  }

  /** The object key CloudFront requests for a viewer path. */
  keyOf(path: string): string {
    const pathname = path.split('?')[0] ?? path;
    let decoded = pathname;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      // Not valid percent-encoding: S3 would refuse the request; keep the raw path.
    }
    return `${this.prefix}${decoded}`;
  }

  /** The viewer path (percent-encoded) of a key under the prefix. */
  pathOf(key: string): string {
    return encodeURI(key.slice(this.prefix.length));
  }

  async put(path: string, page: MirroredPage): Promise<void> {
    await this.#call(`writing ${path}`, () =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(path),
          Body: page.body,
          ContentType: page.contentType,
          ...(page.cacheControl ? { CacheControl: page.cacheControl } : {}),
        }),
      ),
    );
  }

  async delete(path: string): Promise<void> {
    await this.#call(`removing ${path}`, () =>
      this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(path) })),
    );
  }

  async has(path: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(path) }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return false;
      throw new MirrorStoreError(`checking ${path} in s3://${this.bucket} failed`, { cause: error });
    }
  }

  /** Viewer paths of every object whose path starts with `pathPrefix` (e.g. `/tag/news/`). */
  async list(pathPrefix: string): Promise<string[]> {
    const paths: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#call(`listing ${pathPrefix}`, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.keyOf(pathPrefix),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const object of page.Contents ?? []) if (object.Key) paths.push(this.pathOf(object.Key));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return paths;
  }

  /** Whether the mirror holds nothing yet (first start). */
  async isEmpty(): Promise<boolean> {
    const page = await this.#call('listing the mirror', () =>
      this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}/`, MaxKeys: 1 })),
    );
    return (page.KeyCount ?? page.Contents?.length ?? 0) === 0;
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new MirrorStoreError(`${what} in s3://${this.bucket} failed`, { cause: error });
    }
  }
}
