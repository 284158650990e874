import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { MirrorStoreError } from '../errors.js';
import { isEdgeFilePath } from './mirrorRules.js';
import type { FileBody, StoredHeaders, Validators } from './PageFetcher.js';

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
export interface MirroredPage extends StoredHeaders {
  body: Buffer;
}

/**
 * Part size of a streamed upload: S3's smallest part but the last is 5 MiB
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html); one part is held per file in flight.
 */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;

/** User metadata keys holding Ghost's validators, for conditional requests in a full crawl. */
const ETAG_METADATA = 'ghost-etag';
const LAST_MODIFIED_METADATA = 'ghost-last-modified';
/** User metadata key holding the SHA-256 (hex) of a buffered page's body, to skip rewriting the same bytes. */
const CONTENT_HASH_METADATA = 'content-sha256';

export interface WriteOptions {
  /**
   * The key was missing from a listing of the mirror taken by the same job: the check for an equal
   * copy is skipped (a first build into an empty bucket would otherwise send one HEAD per object,
   * each answered 404). Written again at worst if another job stored it meanwhile.
   */
  knownAbsent?: boolean;
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
    const fields = this.#pageFields(path, page);
    await this.#call(`writing ${path}`, () => this.#client.send(new PutObjectCommand({ ...fields, Body: page.body })));
  }

  /**
   * Writes a page unless the mirror already holds the same bytes with the same headers: a HEAD
   * (user metadata and system headers come back with it,
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html) compared with the body's
   * SHA-256, stored as metadata on every page written. False when nothing was written. With
   * `knownAbsent` (the key was not in a listing taken by the same job) the HEAD is skipped.
   */
  async putIfChanged(path: string, page: MirroredPage, options: WriteOptions = {}): Promise<boolean> {
    const fields = this.#pageFields(path, page);
    let same = false;
    if (!options.knownAbsent)
      try {
        const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: fields.Key }));
        const [stored, wanted] = [comparedMetadata(head.Metadata ?? {}), comparedMetadata(fields.Metadata)];
        same =
          head.ContentType === fields.ContentType &&
          head.CacheControl === fields.CacheControl &&
          Object.keys(stored).length === Object.keys(wanted).length &&
          Object.entries(wanted).every(([key, value]) => stored[key] === value);
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status !== 404)
          throw new MirrorStoreError(`checking ${path} in s3://${this.bucket} failed`, { cause: error });
      }
    if (same) return false;
    await this.#call(`writing ${path}`, () => this.#client.send(new PutObjectCommand({ ...fields, Body: page.body })));
    return true;
  }

  #pageFields(path: string, page: MirroredPage) {
    const fields = this.#objectFields(path, page);
    const hash = createHash('sha256').update(comparedBytes(page)).digest('hex');
    return { ...fields, Metadata: { ...fields.Metadata, [CONTENT_HASH_METADATA]: hash } };
  }

  /**
   * Streams a file into the bucket holding one part (`UPLOAD_PART_BYTES`) at a time: one PutObject
   * when it fits in a part, else a multipart upload, aborted when reading or writing fails (the
   * error of the body, e.g. MirrorBodyTooLargeError or MirrorFetchError, is passed on as it is).
   * A file that fits in a part is written only when it differs from the stored copy (`putIfChanged`).
   */
  async putStream(
    path: string,
    headers: StoredHeaders,
    file: FileBody,
    options: WriteOptions = {},
  ): Promise<{ bytes: number; written: boolean }> {
    const fields = this.#objectFields(path, headers);
    let buffered: Uint8Array[] = [];
    let bufferedBytes = 0;
    let total = 0;
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    const flush = async () => {
      const body = Buffer.concat(buffered, bufferedBytes);
      buffered = [];
      bufferedBytes = 0;
      if (!uploadId) {
        const created = await this.#call(`starting an upload of ${path}`, () =>
          this.#client.send(new CreateMultipartUploadCommand(fields)),
        );
        uploadId = created.UploadId;
        if (!uploadId) throw new MirrorStoreError(`S3 started no upload for ${path}`);
      }
      const PartNumber = parts.length + 1;
      const id = uploadId;
      const uploaded = await this.#call(`uploading part ${PartNumber} of ${path}`, () =>
        this.#client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: fields.Key, UploadId: id, PartNumber, Body: body }),
        ),
      );
      parts.push({ PartNumber, ETag: uploaded.ETag });
    };
    try {
      for await (const chunk of file.chunks) {
        buffered.push(chunk);
        bufferedBytes += chunk.byteLength;
        total += chunk.byteLength;
        if (bufferedBytes >= UPLOAD_PART_BYTES) await flush();
      }
      if (!uploadId) {
        const body = Buffer.concat(buffered, bufferedBytes);
        return { bytes: total, written: await this.putIfChanged(path, { ...headers, body }, options) };
      }
      if (bufferedBytes > 0) await flush();
      const id = uploadId;
      await this.#call(`completing the upload of ${path}`, () =>
        this.#client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: fields.Key,
            UploadId: id,
            MultipartUpload: { Parts: parts },
          }),
        ),
      );
      return { bytes: total, written: true };
    } catch (error) {
      await file.cancel();
      if (uploadId) {
        const id = uploadId;
        await this.#client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: fields.Key, UploadId: id }))
          .catch(() => undefined);
      }
      throw error;
    }
  }

  /** The stored copy's validators, or undefined when the mirror holds no object there. */
  async head(path: string): Promise<Validators | undefined> {
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(path) }));
      const etag = head.Metadata?.[ETAG_METADATA];
      const lastModified = head.Metadata?.[LAST_MODIFIED_METADATA];
      return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      throw new MirrorStoreError(`checking ${path} in s3://${this.bucket} failed`, { cause: error });
    }
  }

  /** Removes an object by its key (one listed under the prefix that the mirror no longer takes). */
  async deleteKey(key: string): Promise<void> {
    if (!key.startsWith(`${this.prefix}/`)) throw new MirrorStoreError(`${key} is not under the mirror's prefix`);
    await this.#call(`removing ${key}`, () =>
      this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
    );
  }

  /** Keys (not viewer paths) of every object under a path prefix. */
  async listKeys(pathPrefix: string): Promise<string[]> {
    const keys: string[] = [];
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
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  #objectFields(path: string, headers: StoredHeaders) {
    const { etag, lastModified } = headers.validators;
    return {
      Bucket: this.bucket,
      Key: this.keyOf(path),
      ContentType: headers.contentType,
      CacheControl: headers.cacheControl,
      Metadata: {
        ...(etag ? { [ETAG_METADATA]: etag } : {}),
        ...(lastModified ? { [LAST_MODIFIED_METADATA]: lastModified } : {}),
      },
    };
  }

  async delete(path: string): Promise<void> {
    await this.#call(`removing ${path}`, () =>
      this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(path) })),
    );
  }

  /** Viewer paths of every object whose path starts with `pathPrefix` (e.g. `/tag/news/`). */
  async list(pathPrefix: string): Promise<string[]> {
    return (await this.listKeys(pathPrefix)).map((key) => this.pathOf(key));
  }

  /**
   * Whether the mirror holds no page yet (first start): the edge's own objects (the canary
   * `scripts/deploy.sh` puts there before the first start, Ghost's 404 page and redirects) do not count.
   */
  async isEmpty(): Promise<boolean> {
    const page = await this.#call('listing the mirror', () =>
      this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}/`, MaxKeys: 10 })),
    );
    return (page.Contents ?? []).every((object) => object.Key !== undefined && isEdgeFilePath(this.pathOf(object.Key)));
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new MirrorStoreError(`${what} in s3://${this.bucket} failed`, { cause: error });
    }
  }
}

/**
 * The bytes whose hash says whether a page changed: the body, less a feed's `<lastBuildDate>`, which
 * Ghost sets to the time of each request (a feed whose items did not change is the same feed).
 */
function comparedBytes(page: MirroredPage): Buffer {
  if (!/xml/i.test(page.contentType)) return page.body;
  return Buffer.from(page.body.toString('utf8').replace(/<lastBuildDate>[^<]*<\/lastBuildDate>/, ''));
}

/**
 * The metadata that says whether an object changed: all of it but a weak ETag, which Express derives
 * from the body (a feed's changes with its `<lastBuildDate>`) and the compared hash already covers.
 */
function comparedMetadata(metadata: Record<string, string>): Record<string, string> {
  const etag = metadata[ETAG_METADATA];
  if (!etag?.startsWith('W/')) return metadata;
  const { [ETAG_METADATA]: _weak, ...rest } = metadata;
  return rest;
}
