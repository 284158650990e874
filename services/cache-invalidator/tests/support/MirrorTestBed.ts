import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  createDistribution,
  type DatabaseSettings,
  freePort,
  GhostServer,
  healthSidecarEnv,
  healthSidecarProcess,
  type ManagedProcess,
  MariaDbServer,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  MotoServer,
  motoCloudFront,
  OriginGroupEmulator,
  waitFor,
} from '@ghost-ha/testbed';
import type { CacheInvalidator } from '../../src/CacheInvalidator.js';
import { HANDLED_EVENTS } from '../../src/ghostEvents.js';
import { RecordingProxy } from './RecordingProxy.js';
import { startInvalidator } from './startInvalidator.js';

export const MIRROR_PREFIX = 'site';
const SECRET = 'mirror-webhook-secret';

/**
 * The reader's path end to end, on 127.0.0.1: a real Ghost on MariaDB behind the health-sidecar's
 * gate (as a process, as ECS runs it); the cache-invalidator with the mirror on moto's S3 (through a
 * proxy that can fail like S3 does); CloudFront's origin group emulated in front of the gate and the
 * bucket. The refresher reaches the gate through a recording proxy, to witness what it sent.
 */
export class MirrorTestBed {
  mariadb!: MariaDbServer;
  database!: DatabaseSettings;
  ghost!: GhostServer;
  moto!: MotoServer;
  s3!: S3Client;
  cloudFront!: CloudFrontClient;
  distributionId = '';
  bucket = '';
  sidecar!: ManagedProcess;
  gateUrl = '';
  healthUrl = '';
  gateWitness!: RecordingProxy;
  s3Proxy!: RecordingProxy;
  emulator!: OriginGroupEmulator;
  invalidator!: CacheInvalidator;
  #dir = '';

  static async start(options: { seedPosts: number }): Promise<MirrorTestBed> {
    const bed = new MirrorTestBed();
    try {
      await bed.#start(options);
    } catch (error) {
      await bed.destroy();
      throw error;
    }
    return bed;
  }

  async #start(options: { seedPosts: number }): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'ghost-ha-mirror-bed-'));
    [this.mariadb, this.moto] = await Promise.all([MariaDbServer.start(), MotoServer.start()]);
    this.database = await this.mariadb.database('ghost_mirror');
    this.ghost = await GhostServer.start({ database: this.database });
    this.s3 = motoS3(this.moto.endpoint);
    this.bucket = `mirror-${Date.now()}`;
    await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    this.cloudFront = motoCloudFront(this.moto);
    this.distributionId = await createDistribution(this.cloudFront, 'mirror');
    // Listings and pages the tests compare byte for byte: no two posts in one second (see seedPosts).
    if (options.seedPosts > 0) {
      await this.ghost.seedPosts(options.seedPosts, { tags: ['News'], distinctSeconds: true });
    }
    await this.#startSidecar();
    this.gateWitness = await RecordingProxy.start(this.gateUrl);
    this.s3Proxy = await RecordingProxy.start(this.moto.endpoint);
    this.emulator = await OriginGroupEmulator.start({
      primary: { id: 'alb-test', url: this.gateUrl },
      secondary: { id: 'mirror-test', client: this.s3, bucket: this.bucket, originPath: `/${MIRROR_PREFIX}` },
      readTimeoutMs: 2_000,
    });
  }

  /** The invalidator with its mirror, webhooks registered; `env` adds or overrides settings. */
  async startInvalidator(env: Record<string, string> = {}): Promise<CacheInvalidator> {
    this.invalidator = await startInvalidator(
      {
        SITE_URL: this.ghost.url,
        CLOUDFRONT_DISTRIBUTION_IDS: this.distributionId,
        WEBHOOK_SECRET: SECRET,
        MIRROR_BUCKET: this.bucket,
        MIRROR_PREFIX,
        MIRROR_ORIGIN_URL: this.gateWitness.url,
        MIRROR_CONCURRENCY: '4',
        // The tests built on this bed count the mirror's fetches and writes; tests/mirrorReconcile.test.ts covers the reconcile.
        MIRROR_RECONCILE_ON_START: 'false',
        ...env,
      },
      this.cloudFront,
      { s3: motoS3(this.s3Proxy.url) },
    );
    return this.invalidator;
  }

  async registerWebhooks(targetBaseUrl: string): Promise<void> {
    for (const event of HANDLED_EVENTS) {
      await this.ghost.registerWebhook(event, `${targetBaseUrl}/webhooks/ghost/${event}`, SECRET);
    }
  }

  /** The mirror's copy of a viewer path, or undefined when it holds none. */
  async mirrored(path: string): Promise<{ body: Buffer; contentType: string | undefined } | undefined> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: `${MIRROR_PREFIX}${decodeURIComponent(path)}` }),
      );
      return {
        body: Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array()),
        contentType: object.ContentType,
      };
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  /** Every key in the mirror bucket. */
  async mirrorKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** What an anonymous reader gets from Ghost for a path, straight from Ghost. */
  async anonymous(path: string): Promise<{ status: number; body: Buffer }> {
    const response = await fetch(`${this.ghost.url}${path}`, {
      redirect: 'manual',
      headers: { 'Accept-Encoding': 'identity' },
    });
    return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
  }

  /** Waits until the sidecar's verdict answers `status` (200 healthy, 503 failing). */
  async verdictBecomes(status: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(async () => ((await fetch(`${this.healthUrl}/health/ready`)).status === status ? true : undefined), {
      what: `the sidecar's readiness to answer ${status}`,
      timeoutMs,
      intervalMs: 100,
      abortIf: () => (this.sidecar.isRunning ? undefined : `the sidecar exited:\n${this.sidecar.tail()}`),
    });
  }

  async #startSidecar(): Promise<void> {
    const [gatePort, healthPort] = [await freePort(), await freePort()];
    this.gateUrl = `http://127.0.0.1:${gatePort}`;
    this.healthUrl = `http://127.0.0.1:${healthPort}`;
    this.sidecar = healthSidecarProcess({
      name: 'health-sidecar',
      env: healthSidecarEnv(
        { ghostUrl: this.ghost.url, contentPath: this.ghost.contentDir, database: this.database },
        {
          HEALTH_PORT: String(healthPort),
          GATE_PORT: String(gatePort),
          SITE_URL: this.ghost.url,
          LOCK_WAIT_SECONDS: '1',
          LOCK_RETRY_DELAY_MS: '200',
          DISK_FREE_WARN_MB: '0',
          DRAIN_TIMEOUT_MS: '2000',
          GHOST_STOP_WAIT_MS: '3000',
          STOP_TIMEOUT_MS: '10000',
        },
      ),
      logFile: join(this.#dir, 'sidecar.log'),
    });
    this.sidecar.start();
    await this.verdictBecomes(200, 30_000);
  }

  async destroy(): Promise<void> {
    await this.invalidator?.stop().catch(() => undefined);
    await this.emulator?.close();
    await this.gateWitness?.close();
    await this.s3Proxy?.close();
    await this.sidecar?.stop(5_000);
    await this.ghost?.destroy();
    await Promise.all([this.mariadb?.destroy(), this.moto?.destroy()]);
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}

/** An S3 client on moto (or a proxy in front of it), path-style as a local endpoint needs. */
export function motoS3(endpoint: string): S3Client {
  return new S3Client({
    region: MOTO_REGION,
    endpoint,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { ...MOTO_CREDENTIALS },
  });
}
