import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { createCloudFrontClient } from '../src/createCloudFrontClient.js';
import { HEADERS_TIMEOUT_MS } from '../src/startHttpServer.js';
import { startInvalidator } from './support/startInvalidator.js';

describe('a client that sends its headers one byte a second', () => {
  let service: CacheInvalidator;

  beforeAll(async () => {
    service = await startInvalidator(
      {
        SITE_URL: 'https://example.com',
        CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
        ALLOW_UNSIGNED_WEBHOOKS: 'true',
      },
      createCloudFrontClient({}),
    );
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('is cut off at the headers timeout, give or take a second', async () => {
    const url = new URL(service.url);
    const started = Date.now();
    const closedAfterMs = await new Promise<number>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      const request = `POST /webhooks/post.published HTTP/1.1\r\nHost: ${url.host}\r\nX-Slow: ${'a'.repeat(60)}`;
      let sent = 0;
      const writeOne = () => {
        if (sent < request.length) socket.write(request[sent++] ?? '');
      };
      socket.on('connect', writeOne);
      const drip = setInterval(writeOne, 1000);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(drip);
        resolve(Date.now() - started);
      });
      setTimeout(() => {
        clearInterval(drip);
        socket.destroy();
        reject(new Error('the slow client was never cut off'));
      }, HEADERS_TIMEOUT_MS + 10_000).unref();
    });
    expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 1000);
    expect(closedAfterMs).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + 1000);
  }, 30_000);
});
