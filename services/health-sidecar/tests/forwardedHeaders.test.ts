import { describe, expect, it } from 'vitest';
import { forwardedHeaders, withoutHopByHop } from '../src/forwardedHeaders.js';

describe('forwardedHeaders', () => {
  it('keeps what the ALB set and appends the client to X-Forwarded-For', () => {
    const headers = forwardedHeaders(
      {
        host: 'blog.example.com',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'blog.example.com',
        cookie: 'ghost-admin-api-session=abc',
      },
      '10.0.1.5',
    );
    expect(headers).toEqual({
      host: 'blog.example.com',
      'x-forwarded-for': '203.0.113.7, 10.0.1.5',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'blog.example.com',
      cookie: 'ghost-admin-api-session=abc',
    });
  });

  it('adds X-Forwarded-* when nothing in front set them', () => {
    expect(forwardedHeaders({ host: '127.0.0.1:8080' }, '127.0.0.1')).toEqual({
      host: '127.0.0.1:8080',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': '127.0.0.1:8080',
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
