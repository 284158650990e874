import { createHmac, timingSafeEqual } from 'node:crypto';
import { RequestRejectedError } from './errors.js';

const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64}), t=(\d{1,16})$/;

export interface SignatureCheck {
  rawBody: Buffer;
  /** The `X-Ghost-Signature` header as received. */
  header: string | undefined;
  secret: string;
  nowMs: number;
  /** How far the signed timestamp may be from now, either way, before the delivery counts as a replay. */
  toleranceMs: number;
}

/** A signature that matched: its hex digest (what a replay would repeat) and its signed time. */
export interface VerifiedSignature {
  digest: string;
  timestampMs: number;
}

/**
 * Checks a delivery exactly as Ghost signs it: `X-Ghost-Signature: sha256=<hex>, t=<ms>`, the hex
 * being HMAC-SHA256(secret, rawBody + t). Compared in constant time; throws a 401 rejection.
 */
export function verifyGhostSignature(check: SignatureCheck): VerifiedSignature {
  if (check.header === undefined || check.header === '') {
    throw new RequestRejectedError(401, 'missing_signature', 'X-Ghost-Signature header is missing');
  }
  const match = SIGNATURE_PATTERN.exec(check.header.trim());
  if (!match?.[1] || !match[2]) {
    throw new RequestRejectedError(
      401,
      'malformed_signature',
      'X-Ghost-Signature must look like "sha256=<64 hex>, t=<ms since epoch>"',
    );
  }
  const timestamp = match[2];
  if (Math.abs(check.nowMs - Number(timestamp)) > check.toleranceMs) {
    throw new RequestRejectedError(
      401,
      'stale_signature',
      `X-Ghost-Signature timestamp is more than ${Math.round(check.toleranceMs / 1000)} s from now`,
    );
  }
  const expected = createHmac('sha256', check.secret).update(check.rawBody).update(timestamp).digest();
  if (!timingSafeEqual(Buffer.from(match[1], 'hex'), expected)) {
    throw new RequestRejectedError(401, 'bad_signature', 'X-Ghost-Signature does not match the body');
  }
  return { digest: match[1], timestampMs: Number(timestamp) };
}

/** The header Ghost would send for `rawBody` at `timestampMs`; for the registration check, tests and benchmarks. */
export function signGhostPayload(secret: string, rawBody: Buffer | string, timestampMs: number): string {
  const t = String(timestampMs);
  const hex = createHmac('sha256', secret).update(rawBody).update(t).digest('hex');
  return `sha256=${hex}, t=${t}`;
}
