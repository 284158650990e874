// @module-tag integration
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/freePort.js';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer } from '../src/MotoServer.js';
import { OriginGroupEmulator } from '../src/OriginGroupEmulator.js';

/** A primary whose answer the test sets: a status, a hang, or a dropped connection. */
let behaviour: { kind: 'status'; status: number } | { kind: 'hang' } | { kind: 'drop' } = {
  kind: 'status',
  status: 200,
};
const seenByPrimary: { method: string; path: string }[] = [];

describe('OriginGroupEmulator: CloudFront origin-group failover in front of an HTTP primary and an S3 mirror', () => {
  let moto: MotoServer;
  let primary: Server;
  let emulator: OriginGroupEmulator;
  let down: OriginGroupEmulator;

  beforeAll(async () => {
    moto = await MotoServer.start();
    const s3 = new S3Client({
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
      seenByPrimary.push({ method: req.method ?? '', path: req.url ?? '' });
      if (behaviour.kind === 'hang') return;
      if (behaviour.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(behaviour.status, { 'Content-Type': 'text/plain' }).end(`primary ${behaviour.status}`);
    });
    await new Promise<void>((resolve) => primary.listen(0, '127.0.0.1', resolve));
    const secondary = { id: 'mirror-x', client: s3, bucket: 'mirror', originPath: '/site' };
    emulator = await OriginGroupEmulator.start({
      primary: { id: 'alb-x', url: `http://127.0.0.1:${(primary.address() as AddressInfo).port}` },
      secondary,
      readTimeoutMs: 300,
    });
    down = await OriginGroupEmulator.start({
      primary: { id: 'alb-down', url: `http://127.0.0.1:${await freePort()}` },
      secondary,
    });
  });

  afterAll(async () => {
    await emulator?.close();
    await down?.close();
    primary?.closeAllConnections();
    await new Promise<void>((resolve) => (primary ? primary.close(() => resolve()) : resolve()));
    await moto?.destroy();
  });

  const get = async (base: string, path: string, method = 'GET') => {
    const response = await fetch(`${base}${path}`, { method });
    return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
  };

  it('serves the primary when it answers, even with a status outside the failover criteria', async () => {
    behaviour = { kind: 'status', status: 200 };
    expect(await get(emulator.url, '/hello/')).toMatchObject({ status: 200, body: 'primary 200' });
    behaviour = { kind: 'status', status: 404 };
    expect(await get(emulator.url, '/hello/')).toMatchObject({ status: 404, body: 'primary 404' });
  });

  it.each([500, 502, 503, 504])(
    'retries a %i once on the mirror, whose object (key under the origin path) it returns',
    async (status) => {
      behaviour = { kind: 'status', status };
      expect(await get(emulator.url, '/hello/')).toEqual({
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
      });
    },
  );

  it('maps / and percent-encoded paths to their keys, ignores the query string, and passes the mirror 404 on', async () => {
    behaviour = { kind: 'status', status: 503 };
    expect((await get(emulator.url, '/?utm=x')).body).toBe('mirror home');
    expect((await get(emulator.url, '/caf%C3%A9/')).body).toBe('mirror café');
    expect((await get(emulator.url, '/not-mirrored/')).status).toBe(404);
  });

  it('fails over on a timeout, a dropped connection and a refused one', async () => {
    behaviour = { kind: 'hang' };
    const started = Date.now();
    expect((await get(emulator.url, '/hello/')).body).toBe('mirror hello');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(emulator.routed.at(-1)?.failoverReason).toBe('timeout');
    behaviour = { kind: 'drop' };
    expect((await get(emulator.url, '/hello/')).body).toBe('mirror hello');
    expect(emulator.routed.at(-1)?.failoverReason).toBe('connection');
    expect((await get(down.url, '/hello/')).body).toBe('mirror hello');
  });

  it('never fails over other methods or primary-only paths', async () => {
    behaviour = { kind: 'status', status: 503 };
    expect(await get(emulator.url, '/hello/', 'POST')).toMatchObject({ status: 503, body: 'primary 503' });
    expect(await get(emulator.url, '/ghost/', 'GET')).toMatchObject({ status: 503, body: 'primary 503' });
    expect(await get(emulator.url, '/members/api/member/', 'GET')).toMatchObject({ status: 503 });
    expect((await get(down.url, '/ghost/')).status).toBe(502);
    expect(emulator.routed.filter((r) => r.servedBy === 'mirror-x' && /^\/(ghost|members)\//.test(r.path))).toEqual([]);
  });

  it('HEAD fails over too, and gets no body', async () => {
    behaviour = { kind: 'status', status: 502 };
    expect(await get(emulator.url, '/hello/', 'HEAD')).toMatchObject({ status: 200, body: '' });
    expect(emulator.routed.at(-1)?.servedBy).toBe('mirror-x');
  });
});
