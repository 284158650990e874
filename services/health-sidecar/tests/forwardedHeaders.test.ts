import { describe, expect, it } from 'vitest';
import { clientAddress, forwardedHeaders, withoutHopByHop } from '../src/forwardedHeaders.js';

const SITE = { host: 'blog.example.com', proto: 'https', trustedProxies: 2 } as const;

describe('forwardedHeaders', () => {
  it('tells Ghost the viewer CloudFront saw, never an address the viewer wrote', () => {
    const headers = forwardedHeaders(
      {
        host: 'blog.example.com',
        // The viewer's own "1.2.3.4", CloudFront's viewer address, the ALB's CloudFront address.
        'x-forwarded-for': '1.2.3.4, 203.0.113.7, 130.176.0.9',
        'x-forwarded-proto': 'https',
        cookie: 'ghost-admin-api-session=abc',
      },
      '10.0.1.5',
      SITE,
    );
    expect(headers).toEqual({
      host: 'blog.example.com',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'blog.example.com',
      cookie: 'ghost-admin-api-session=abc',
    });
  });

  it("overwrites the Host and X-Forwarded-Host/-Proto a client sent with the site's", () => {
    const headers = forwardedHeaders(
      {
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '8443',
        forwarded: 'for=1.2.3.4;host=evil.example',
        'x-real-ip': '1.2.3.4',
        'true-client-ip': '1.2.3.4',
        'cloudfront-viewer-address': '1.2.3.4:443',
      },
      '10.0.1.5',
      SITE,
    );
    expect(headers).toEqual({
      host: 'blog.example.com',
      'x-forwarded-host': 'blog.example.com',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '10.0.1.5',
    });
  });

  it('drops hop-by-hop headers, including those named in Connection', () => {
    expect(
      withoutHopByHop({
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'x-hop': '1',
        'content-type': 'text/html',
      }),
    ).toEqual({ 'content-type': 'text/html' });
  });
});

describe('clientAddress', () => {
  it('takes the entry the first trusted proxy wrote, whatever the client put in front of it', () => {
    expect(clientAddress('203.0.113.7, 130.176.0.9', '10.0.1.5', 2)).toBe('203.0.113.7');
    expect(clientAddress('9.9.9.9, 8.8.8.8, 203.0.113.7, 130.176.0.9', '10.0.1.5', 2)).toBe('203.0.113.7');
    expect(clientAddress(['9.9.9.9', '203.0.113.7, 130.176.0.9'], '10.0.1.5', 2)).toBe('203.0.113.7');
    expect(clientAddress('2001:db8::1, 130.176.0.9', '10.0.1.5', 2)).toBe('2001:db8::1');
    expect(clientAddress('203.0.113.7', '10.0.1.5', 1)).toBe('203.0.113.7');
  });

  it('falls back to the peer when the request did not pass every trusted proxy', () => {
    // One entry where two proxies should have written: the client wrote it, straight to the gate.
    expect(clientAddress('1.2.3.4', '127.0.0.1', 2)).toBe('127.0.0.1');
    expect(clientAddress(undefined, '127.0.0.1', 2)).toBe('127.0.0.1');
    expect(clientAddress(' , ,', '127.0.0.1', 2)).toBe('127.0.0.1');
    // Nothing trusted in front: X-Forwarded-For is the client's word only.
    expect(clientAddress('1.2.3.4, 5.6.7.8', '127.0.0.1', 0)).toBe('127.0.0.1');
  });

  it('never passes on an entry that is not an IP address', () => {
    expect(clientAddress('evil, 130.176.0.9', '10.0.1.5', 2)).toBe('10.0.1.5');
    expect(clientAddress('1.2.3.4:80, 130.176.0.9', '10.0.1.5', 2)).toBe('10.0.1.5');
  });
});
