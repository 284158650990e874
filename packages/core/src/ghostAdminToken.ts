import { createHmac } from 'node:crypto';

const KEY_PATTERN = /^([0-9a-f]{24}):([0-9a-f]{64})$/;

/** True when `key` has the `id:secret` form Ghost shows for an integration's Admin API key. */
export function isAdminApiKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * A short-lived Admin API token as Ghost expects it: HS256 JWT, `kid` = key id, the hex-decoded
 * secret as the signing key, audience `/admin/`, five minutes of validity.
 */
export function ghostAdminToken(adminApiKey: string, nowMs: number = Date.now()): string {
  const match = KEY_PATTERN.exec(adminApiKey);
  if (!match?.[1] || !match[2]) {
    throw new TypeError("Admin API key must have the form 'id:secret' (24 and 64 hex characters)");
  }
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'HS256', typ: 'JWT', kid: match[1] };
  const payload = { iat, exp: iat + 5 * 60, aud: '/admin/' };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = createHmac('sha256', Buffer.from(match[2], 'hex')).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
