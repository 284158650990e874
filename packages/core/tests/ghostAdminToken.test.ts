import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ghostAdminToken, isAdminApiKey } from '../src/ghostAdminToken.js';

const require = createRequire(import.meta.url);
// The JWT library the official SDK signs with, used here as the independent verifier.
const jwt = require('jsonwebtoken') as typeof import('jsonwebtoken');

const KEY = `${'0123456789abcdef01234567'}:${'ab'.repeat(32)}`;

describe('ghostAdminToken', () => {
  it('produces a token that verifies as Ghost checks it: HS256, kid, /admin/ audience, 5 minutes', () => {
    const now = Date.now();
    const token = ghostAdminToken(KEY, now);
    const secret = Buffer.from('ab'.repeat(32), 'hex');
    const decoded = jwt.verify(token, secret, { algorithms: ['HS256'], audience: '/admin/', complete: true });
    expect(decoded.header.kid).toBe('0123456789abcdef01234567');
    const payload = decoded.payload as { iat: number; exp: number };
    expect(payload.exp - payload.iat).toBe(300);
    expect(Math.abs(payload.iat * 1000 - now)).toBeLessThan(1000);
  });

  it('rejects keys that are not id:secret', () => {
    expect(isAdminApiKey('abc')).toBe(false);
    expect(isAdminApiKey(KEY)).toBe(true);
    expect(() => ghostAdminToken('not-a-key')).toThrow(/id:secret/);
  });
});
