import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RequestRejectedError } from '../src/errors.js';
import { signGhostPayload, verifyGhostSignature } from '../src/verifyGhostSignature.js';

const secret = 'webhook-secret';
const body = Buffer.from('{"post":{"current":{"id":"1"}}}');
const now = 1_790_000_000_000;

/** Ghost's own scheme, written out independently: HMAC-SHA256 over the body with the timestamp appended. */
function ghostHeader(rawBody: Buffer, t: number, key = secret): string {
  const hex = createHmac('sha256', key)
    .update(Buffer.concat([rawBody, Buffer.from(String(t))]))
    .digest('hex');
  return `sha256=${hex}, t=${t}`;
}

function reasonOf(header: string | undefined, options: { at?: number; rawBody?: Buffer } = {}): string | undefined {
  try {
    verifyGhostSignature({
      rawBody: options.rawBody ?? body,
      header,
      secret,
      nowMs: options.at ?? now,
      toleranceMs: 300_000,
    });
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(RequestRejectedError);
    expect((error as RequestRejectedError).status).toBe(401);
    return (error as RequestRejectedError).reason;
  }
}

describe('verifyGhostSignature', () => {
  it("accepts Ghost's header, and signs the same way", () => {
    expect(reasonOf(ghostHeader(body, now - 1000))).toBeUndefined();
    expect(signGhostPayload(secret, body, now)).toBe(ghostHeader(body, now));
  });

  it('rejects a signature over the body alone (the common mistake)', () => {
    const bodyOnly = createHmac('sha256', secret).update(body).digest('hex');
    expect(reasonOf(`sha256=${bodyOnly}, t=${now}`)).toBe('bad_signature');
  });

  it('rejects another secret, a changed body and a changed timestamp', () => {
    expect(reasonOf(ghostHeader(body, now, 'other-secret'))).toBe('bad_signature');
    expect(reasonOf(ghostHeader(body, now), { rawBody: Buffer.from('{"post":{}}') })).toBe('bad_signature');
    expect(reasonOf(ghostHeader(body, now).replace(`t=${now}`, `t=${now + 1}`))).toBe('bad_signature');
  });

  it('rejects timestamps outside the tolerance, either way', () => {
    expect(reasonOf(ghostHeader(body, now - 301_000))).toBe('stale_signature');
    expect(reasonOf(ghostHeader(body, now + 301_000))).toBe('stale_signature');
    expect(reasonOf(ghostHeader(body, now - 299_000))).toBeUndefined();
  });

  it('rejects a missing or malformed header', () => {
    expect(reasonOf(undefined)).toBe('missing_signature');
    expect(reasonOf('')).toBe('missing_signature');
    expect(reasonOf('sha256=abc, t=1')).toBe('malformed_signature');
    expect(reasonOf(`sha1=${'a'.repeat(64)}, t=${now}`)).toBe('malformed_signature');
    expect(reasonOf(`sha256=${'a'.repeat(64)}`)).toBe('malformed_signature');
  });
});
