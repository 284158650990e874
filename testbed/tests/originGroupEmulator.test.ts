// @module-tag integration
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadTemplate } from '@ghost-ha/infra/parseTemplate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../src/freePort.js';
import { type EdgeSettings, loadEdgeSettings } from '../src/loadEdgeSettings.js';
import { MirrorBucketPolicy } from '../src/MirrorBucketPolicy.js';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer } from '../src/MotoServer.js';
import { OriginGroupEmulator } from '../src/OriginGroupEmulator.js';

/** A primary whose answer the test sets: a status (and Cache-Control), a hang, or a dropped connection. */
let behaviour: { kind: 'status'; status: number; cacheControl?: string } | { kind: 'hang' } | { kind: 'drop' } = {
  kind: 'status',
  status: 200,
};
const seenByPrimary: { method: string; path: string; host: string | undefined }[] = [];
let clock = 1_000_000;
const edgeParameters = loadTemplate('edge').Parameters ?? {};
/** The s-maxage the edge function gives Ghost's public answers, and the mirror's. */
const PAGE_SECONDS = Number(edgeParameters.CacheTtlSeconds?.Default);
const MIRROR_SECONDS = Number(edgeParameters.MirrorCacheSeconds?.Default);

/** The origin request policy edge.yaml had before: the viewer's Host to both members of the group. */
function forwardingHost(settings: EdgeSettings): EdgeSettings {
  return {
    ...settings,
    behaviors: settings.behaviors.map((b) =>
      settings.groups.has(b.targetOriginId)
        ? {
            ...b,
            originRequestPolicy: {
              name: 'ghost-ha-host',
              headers: { kind: 'only', names: ['host'] },
              cookies: { kind: 'none' },
              queryStrings: { kind: 'none' },
            },
          }
        : b,
    ),
  };
}

/** The bucket policy data.yaml had before: s3:GetObject only. */
function getObjectOnly(): MirrorBucketPolicy {
  const data = loadTemplate('data');
  const policy = data.Resources.MirrorBucketPolicy?.Properties?.PolicyDocument;
  policy.Statement = policy.Statement.filter((s: { 'Fn::If'?: [string, { Sid?: string }] }) => {
    const sid = s['Fn::If']?.[1]?.Sid;
    return sid !== 'CloudFrontListsTheMirror';
  });
  return MirrorBucketPolicy.load({ template: data });
}

describe('OriginGroupEmulator: CloudFront as edge.yaml configures it, in front of an HTTP primary and the S3 mirror', () => {
  let moto: MotoServer;
  let primary: Server;
  let emulator: OriginGroupEmulator;
  let down: OriginGroupEmulator;
  let s3: S3Client;
  let primaryUrl = '';
  const settings = loadEdgeSettings();

  beforeAll(async () => {
    moto = await MotoServer.start();
    s3 = new S3Client({
      region: MOTO_REGION,
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: { ...MOTO_CREDENTIALS },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'mirror' }));
    for (const [key, body, type] of [
      ['site/', 'mirror home', 'text/html; charset=utf-8'],
      ['site/hello/', 'mirror hello', 'text/html; charset=utf-8'],
      ['site/café/', 'mirror café', 'text/html; charset=utf-8'],
      ['site/.ghost-404.html', 'ghost 404 page', 'text/html; charset=utf-8'],
    ] as const) {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'mirror',
          Key: key,
          Body: body,
          ContentType: type,
          CacheControl: 'public, max-age=0',
        }),
      );
    }
    primary = createServer((req, res) => {
      seenByPrimary.push({ method: req.method ?? '', path: req.url ?? '', host: req.headers.host });
      if (behaviour.kind === 'hang') return;
      if (behaviour.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      res
        .writeHead(behaviour.status, {
          'Content-Type': 'text/plain',
          'Cache-Control': behaviour.cacheControl ?? 'public, max-age=0',
        })
        .end(`primary ${behaviour.status}`);
    });
    await new Promise<void>((resolve) => primary.listen(0, '127.0.0.1', resolve));
    primaryUrl = `http://127.0.0.1:${(primary.address() as AddressInfo).port}`;
    const secondary = { id: 'mirror-x', client: s3, bucket: 'mirror' };
    emulator = await OriginGroupEmulator.start({
      primary: { id: 'alb-x', url: primaryUrl },
      secondary,
      readTimeoutMs: 300,
      now: () => clock,
    });
    down = await OriginGroupEmulator.start({
      primary: { id: 'alb-down', url: `http://127.0.0.1:${await freePort()}` },
      secondary,
      now: () => clock,
    });
  });

  beforeEach(() => {
    emulator.invalidate(['/*']);
    down.invalidate(['/*']);
    behaviour = { kind: 'status', status: 200 };
  });

  afterAll(async () => {
    await emulator?.close();
    await down?.close();
    primary?.closeAllConnections();
    await new Promise<void>((resolve) => (primary ? primary.close(() => resolve()) : resolve()));
    await moto?.destroy();
  });

  const get = async (base: string, path: string, method = 'GET', headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { method, headers, redirect: 'manual' });
    return {
      status: response.status,
      body: await response.text(),
      type: response.headers.get('content-type'),
      location: response.headers.get('location'),
    };
  };

  it('reads the distribution from edge.yaml: the group, its failover codes, attempts and timeouts', () => {
    const group = settings.groups.get('ghost-regions');
    expect(group?.failoverStatusCodes).toEqual([500, 502, 503, 504]);
    const alb = settings.origins.get(group?.members[0] ?? '');
    expect(alb).toMatchObject({
      kind: 'custom',
      connectionAttempts: 2,
      connectionTimeoutSeconds: 5,
      readTimeoutSeconds: 30,
    });
    expect(settings.origins.get(group?.members[1] ?? '')).toMatchObject({
      kind: 's3',
      originPath: '/site',
      signed: true,
    });
    expect(emulator.behaviorFor('/ghost/api/admin/posts/').targetOriginId).toMatch(/^alb-/);
    expect(emulator.behaviorFor('/a-post/').targetOriginId).toBe('ghost-regions');
  });

  it('serves the primary when it answers, even with a status outside the failover criteria', async () => {
    expect(await get(emulator.url, '/hello/')).toMatchObject({ status: 200, body: 'primary 200' });
    emulator.invalidate(['/*']);
    behaviour = { kind: 'status', status: 404 };
    expect(await get(emulator.url, '/hello/')).toMatchObject({ status: 404, body: 'primary 404' });
  });

  it('today before the change: the group forwarded the viewer Host, and every failover to the mirror was a 403', async () => {
    const old = await OriginGroupEmulator.start({
      primary: { id: 'alb-x', url: primaryUrl },
      secondary: { id: 'mirror-x', client: s3, bucket: 'mirror' },
      settings: forwardingHost(settings),
      readTimeoutMs: 300,
      now: () => clock,
    });
    try {
      behaviour = { kind: 'status', status: 503 };
      const answer = await get(old.url, '/hello/', 'GET', { Host: 'blog.example.com' });
      expect(answer.status).toBe(403);
      expect(answer.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    } finally {
      await old.close();
    }
  });

  it.each([500, 502, 503, 504])(
    'fails a %i over to the mirror, whose object under the origin path it returns',
    async (status) => {
      behaviour = { kind: 'status', status };
      expect(await get(emulator.url, '/hello/', 'GET', { Host: 'blog.example.com' })).toMatchObject({
        status: 200,
        body: 'mirror hello',
        type: 'text/html; charset=utf-8',
      });
      expect(emulator.routed.at(-1)).toEqual({
        method: 'GET',
        path: '/hello/',
        servedBy: 'mirror-x',
        status: 200,
        failoverReason: String(status),
        cache: 'Miss',
      });
    },
  );

  it('neither origin gets the viewer Host: the ALB gets its own origin name, S3 its bucket host', async () => {
    behaviour = { kind: 'status', status: 503 };
    const before = emulator.originRequests.length;
    await get(emulator.url, '/hello/', 'GET', { Host: 'blog.example.com', Cookie: 'ghost-members-ssr=a; other=b' });
    const [alb, mirror] = emulator.originRequests.slice(before);
    const group = settings.groups.get('ghost-regions');
    expect(alb?.host).toBe(settings.origins.get(group?.members[0] ?? '')?.domainName);
    expect(alb?.headers.cookie).toBe('ghost-members-ssr=a');
    expect(mirror?.host).toBe(settings.origins.get(group?.members[1] ?? '')?.domainName);
    expect(seenByPrimary.at(-1)?.host).not.toBe('blog.example.com');
  });

  it('maps / and percent-encoded paths to their keys; a missing key is 404 NoSuchKey (list permission on the prefix)', async () => {
    behaviour = { kind: 'status', status: 503 };
    expect((await get(emulator.url, '/?utm=x')).body).toBe('mirror home');
    expect((await get(emulator.url, '/caf%C3%A9/')).body).toBe('mirror café');
    const missing = await get(emulator.url, '/not-mirrored/');
    expect(missing.status).toBe(404);
    expect(missing.body).not.toContain('<Error>');
  });

  it('with s3:GetObject alone (the policy before), a missing key is 403 AccessDenied', async () => {
    const strict = await OriginGroupEmulator.start({
      primary: { url: primaryUrl },
      secondary: { client: s3, bucket: 'mirror' },
      bucketPolicy: getObjectOnly(),
      readTimeoutMs: 300,
    });
    try {
      behaviour = { kind: 'status', status: 503 };
      const missing = await get(strict.url, '/not-mirrored/');
      expect(missing.status).toBe(403);
      expect(missing.body).toContain('<Code>AccessDenied</Code>');
      expect((await get(strict.url, '/hello/')).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('fails over on a timeout after every connection attempt, a dropped connection and a refused one', async () => {
    behaviour = { kind: 'hang' };
    const attempts =
      settings.origins.get(settings.groups.get('ghost-regions')?.members[0] ?? '')?.connectionAttempts ?? 0;
    const before = seenByPrimary.length;
    const started = Date.now();
    expect((await get(emulator.url, '/hello/')).body).toBe('mirror hello');
    // Each attempt waits the (scaled) read timeout, 300 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(attempts * 300 - 20);
    expect(seenByPrimary.length - before).toBe(attempts);
    expect(emulator.routed.at(-1)?.failoverReason).toBe('timeout');
    emulator.invalidate(['/*']);
    behaviour = { kind: 'drop' };
    expect((await get(emulator.url, '/hello/')).body).toBe('mirror hello');
    expect(emulator.routed.at(-1)?.failoverReason).toBe('connection');
    expect((await get(down.url, '/hello/')).body).toBe('mirror hello');
  });

  it('never fails over other methods or primary-only paths', async () => {
    behaviour = { kind: 'status', status: 503 };
    expect(await get(emulator.url, '/ghost/api/admin/posts/', 'POST')).toMatchObject({
      status: 503,
      body: 'primary 503',
    });
    expect(await get(emulator.url, '/ghost/', 'GET')).toMatchObject({ status: 503, body: 'primary 503' });
    expect(await get(emulator.url, '/members/api/member/', 'GET')).toMatchObject({ status: 503 });
    expect((await get(emulator.url, '/hello/', 'POST')).status).toBe(403);
    expect((await get(down.url, '/ghost/')).status).toBe(502);
    expect(emulator.routed.filter((r) => r.servedBy === 'mirror-x' && /^\/(ghost|members)\//.test(r.path))).toEqual([]);
  });

  it('HEAD fails over too, and gets no body', async () => {
    behaviour = { kind: 'status', status: 502 };
    expect(await get(emulator.url, '/hello/', 'HEAD')).toMatchObject({ status: 200, body: '' });
    expect(emulator.routed.at(-1)?.servedBy).toBe('mirror-x');
  });

  it("redirects as Ghost does at the edge (the template's CloudFront Function): lower case, trailing slash, query kept", async () => {
    behaviour = { kind: 'status', status: 503 };
    const before = seenByPrimary.length;
    expect(await get(emulator.url, '/hello')).toMatchObject({ status: 301, location: '/hello/' });
    expect(await get(emulator.url, '/Hello/')).toMatchObject({ status: 301, location: '/hello/' });
    expect(await get(emulator.url, '/HeLLo?utm=x')).toMatchObject({ status: 301, location: '/hello/?utm=x' });
    expect(await get(emulator.url, '/caf%C3%A9')).toMatchObject({ status: 301, location: '/caf%C3%A9/' });
    // Never to another host.
    expect(await get(emulator.url, '//evil-example')).toMatchObject({ status: 301, location: '/evil-example/' });
    expect(await get(emulator.url, '//Evil.example/')).toMatchObject({ status: 301, location: '/evil.example/' });
    expect(seenByPrimary.length, 'a redirect asks no origin').toBe(before);
    expect(emulator.routed.at(-1)?.servedBy).toMatch(/canonical-path$/);
    // Files, the canonical form and the single-origin paths pass.
    expect((await get(emulator.url, '/sitemap.xml')).status).toBe(404);
    expect((await get(emulator.url, '/hello/')).body).toBe('mirror hello');
    expect(await get(emulator.url, '/ghost/api/admin/Posts')).toMatchObject({ status: 503, body: 'primary 503' });
    expect(await get(emulator.url, '/assets/Built/Screen.css')).toMatchObject({ status: 404 });
  });

  it('caches pages for the policy TTL, errors for ErrorCachingMinTTL (5xx never, 404 10 s), uncached paths never', async () => {
    behaviour = { kind: 'status', status: 200, cacheControl: 'public, max-age=60' };
    await get(emulator.url, '/cached/');
    behaviour = { kind: 'status', status: 200, cacheControl: 'public, max-age=60' };
    expect(emulator.routed.at(-1)?.cache).toBe('Miss');
    await get(emulator.url, '/cached/');
    expect(emulator.routed.at(-1)?.cache).toBe('Hit');
    clock += PAGE_SECONDS * 1000 - 1;
    await get(emulator.url, '/cached/');
    expect(emulator.routed.at(-1)?.cache).toBe('Hit');
    clock += 2;
    await get(emulator.url, '/cached/');
    expect(emulator.routed.at(-1)?.cache).toBe('Miss');

    behaviour = { kind: 'status', status: 404 };
    await get(emulator.url, '/nothing/');
    await get(emulator.url, '/nothing/');
    expect(emulator.routed.at(-1)?.cache).toBe('Hit');
    clock += 10_001;
    await get(emulator.url, '/nothing/');
    expect(emulator.routed.at(-1)?.cache).toBe('Miss');

    await get(down.url, '/ghost/');
    await get(down.url, '/ghost/');
    expect(down.routed.at(-1)?.cache).toBeUndefined();
  });

  it("keeps a mirror copy MirrorCacheSeconds (s-maxage from the edge function), Ghost's public answers CacheTtlSeconds, private ones not at all", async () => {
    expect(MIRROR_SECONDS).toBeGreaterThan(0);
    expect(MIRROR_SECONDS).toBeLessThan(PAGE_SECONDS);
    behaviour = { kind: 'status', status: 503 };
    await get(emulator.url, '/hello/');
    behaviour = { kind: 'status', status: 200 };
    clock += MIRROR_SECONDS * 1000 - 1;
    expect((await get(emulator.url, '/hello/')).body).toBe('mirror hello');
    clock += 2;
    expect((await get(emulator.url, '/hello/')).body).toBe('primary 200');
    behaviour = {
      kind: 'status',
      status: 200,
      cacheControl: 'private, no-cache, no-store, must-revalidate, max-age=0',
    };
    await get(emulator.url, '/member-page/');
    await get(emulator.url, '/member-page/');
    expect(emulator.routed.at(-1)?.cache).toBe('Miss');
  });

  it("answers a page the mirror lacks with Ghost's 404 page and status 404 (the edge function), S3's XML never", async () => {
    behaviour = { kind: 'status', status: 503 };
    const missing = await get(emulator.url, '/not-mirrored/');
    expect(missing).toMatchObject({ status: 404, body: 'ghost 404 page', type: 'text/html; charset=utf-8' });
    // Without a mirrored 404 page: a minimal HTML 404, still not S3's XML (and no loop).
    await s3.send(new DeleteObjectCommand({ Bucket: 'mirror', Key: 'site/.ghost-404.html' }));
    emulator.invalidate(['/*']);
    try {
      const bare = await get(emulator.url, '/not-mirrored-either/');
      expect(bare.status).toBe(404);
      expect(bare.body).toContain('404: page not found');
    } finally {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'mirror',
          Key: 'site/.ghost-404.html',
          Body: 'ghost 404 page',
          ContentType: 'text/html; charset=utf-8',
        }),
      );
    }
    // A 404 from Ghost itself (no failover) is Ghost's, untouched.
    behaviour = { kind: 'status', status: 404 };
    expect(await get(emulator.url, '/gone/')).toMatchObject({ status: 404, body: 'primary 404' });
  });

  it("applies Ghost's redirects (mirrored as .ghost-redirects.json) to pages the mirror lacks, not to those it holds", async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'mirror',
        Key: 'site/.ghost-redirects.json',
        Body: JSON.stringify({
          301: { '^/old-post/$': '/hello/', '^/topic/(.*)$': '/tag/$1', '^/old/(.*)$': '/$1' },
          302: { '^/hello/$': '/nowhere/' },
        }),
        ContentType: 'application/json',
      }),
    );
    try {
      behaviour = { kind: 'status', status: 503 };
      expect(await get(emulator.url, '/old-post/')).toMatchObject({ status: 301, location: '/hello/' });
      expect(await get(emulator.url, '/old-post/?utm=x')).toMatchObject({ status: 301, location: '/hello/?utm=x' });
      expect(await get(emulator.url, '/topic/news/')).toMatchObject({ status: 301, location: '/tag/news/' });
      expect(await get(emulator.url, '/old//evil.example/')).toMatchObject({ status: 301, location: '/evil.example/' });
      expect((await get(emulator.url, '/hello/')).body).toBe('mirror hello');
      expect(await get(emulator.url, '/unmatched/')).toMatchObject({ status: 404, body: 'ghost 404 page' });
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: 'mirror', Key: 'site/.ghost-redirects.json' }));
    }
  });

  it('serves a stale copy within stale-if-error when the origins fail, not after', async () => {
    const deadS3 = new S3Client({
      region: MOTO_REGION,
      endpoint: `http://127.0.0.1:${await freePort()}`,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { ...MOTO_CREDENTIALS },
    });
    const edge = await OriginGroupEmulator.start({
      primary: { url: primaryUrl },
      secondary: { client: deadS3, bucket: 'mirror' },
      readTimeoutMs: 300,
      now: () => clock,
    });
    try {
      behaviour = { kind: 'status', status: 200, cacheControl: 'public, max-age=60, stale-if-error=600' };
      expect((await get(edge.url, '/stale/')).body).toBe('primary 200');
      behaviour = { kind: 'status', status: 503 };
      clock += PAGE_SECONDS * 1000 + 1;
      expect(await get(edge.url, '/stale/')).toMatchObject({ status: 200, body: 'primary 200' });
      expect(edge.routed.at(-1)?.cache).toBe('Stale');
      clock += 600_000;
      expect((await get(edge.url, '/stale/')).status).toBe(502);
    } finally {
      await edge.close();
    }
  });
});
