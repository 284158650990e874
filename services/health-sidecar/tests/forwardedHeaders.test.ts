import { describe, expect, it } from 'vitest';
import { forwardedHeaders, hasBody, withoutHopByHop } from '../src/forwardedHeaders.js';

describe('forwardedHeaders', () => {
  it('keeps what the ALB set, in its order and spelling, and appends the client to X-Forwarded-For', () => {
    const headers = forwardedHeaders(
      [
        'Host',
        'blog.example.com',
        'X-Forwarded-For',
        '203.0.113.7',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'blog.example.com',
        'Cookie',
        'ghost-admin-api-session=abc',
      ],
      '10.0.1.5',
    );
    expect(headers).toEqual([
      'Host',
      'blog.example.com',
      'X-Forwarded-For',
      '203.0.113.7, 10.0.1.5',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Host',
      'blog.example.com',
      'Cookie',
      'ghost-admin-api-session=abc',
    ]);
  });

  it('appends the client to the last of several X-Forwarded-For lines, whatever their case', () => {
    expect(forwardedHeaders(['x-forwarded-for', '203.0.113.7', 'X-FORWARDED-FOR', '10.0.0.1'], '10.0.1.5')).toEqual([
      'x-forwarded-for',
      '203.0.113.7',
      'X-FORWARDED-FOR',
      '10.0.0.1, 10.0.1.5',
      'X-Forwarded-Proto',
      'http',
    ]);
  });

  it('adds X-Forwarded-* when nothing in front set them', () => {
    expect(forwardedHeaders(['Host', '127.0.0.1:8080'], '127.0.0.1')).toEqual([
      'Host',
      '127.0.0.1:8080',
      'X-Forwarded-For',
      '127.0.0.1',
      'X-Forwarded-Proto',
      'http',
      'X-Forwarded-Host',
      '127.0.0.1:8080',
    ]);
  });

  it('drops hop-by-hop headers, including those named in Connection, and keeps repeated ones', () => {
    expect(
      withoutHopByHop([
        'Connection',
        'keep-alive, X-Hop',
        'Keep-Alive',
        'timeout=5',
        'Transfer-Encoding',
        'chunked',
        'x-hop',
        '1',
        'Content-Type',
        'text/html',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
        'TE',
        'trailers',
      ]),
    ).toEqual(['Content-Type', 'text/html', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });

  it('tells a request with a body from one without', () => {
    expect(hasBody(['Host', 'x'])).toBe(false);
    expect(hasBody(['Content-Length', '0'])).toBe(false);
    expect(hasBody(['Content-Length', '12'])).toBe(true);
    expect(hasBody(['transfer-encoding', 'chunked'])).toBe(true);
  });
});
