import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, errorReason, summarizeError } from '../src/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)));
      callback();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON lines with service and level names, and redacts secrets and auth headers', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'test', destination }).child({ module: 'logger.test' });
    logger.info(
      {
        req: { headers: { authorization: 'Ghost eyJ...', 'x-ghost-signature': 'sha256=abc, t=1', host: 'site' } },
        config: { password: 'hunter2', adminApiKey: 'id:secret', port: 1 },
        secret: 'top',
      },
      'hello',
    );
    const line = lines[0] ?? {};
    expect(line).toMatchObject({ level: 'info', service: 'test', module: 'logger.test', msg: 'hello' });
    const text = JSON.stringify(line);
    for (const secret of ['eyJ', 'sha256=abc', 'hunter2', 'id:secret', '"top"']) expect(text).not.toContain(secret);
    expect(text).toContain('"host":"site"');
    expect(text).toContain('"port":1');
  });
});

describe('summarizeError', () => {
  it('keeps name, message, code and status but not request details', () => {
    const sdkError = Object.assign(new Error('Rate exceeded'), {
      name: 'Throttling',
      $metadata: { httpStatusCode: 400 },
      $response: { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIA...' } },
    });
    const wrapped = new Error('send failed', { cause: sdkError });
    const summary = summarizeError(wrapped);
    expect(summary).toEqual({
      name: 'Error',
      message: 'send failed',
      cause: { name: 'Throttling', message: 'Rate exceeded', status: 400 },
    });
    expect(JSON.stringify(summary)).not.toContain('AKIA');
  });
});

describe('errorReason', () => {
  it('names an error by its code when it has one, else by its name', () => {
    const locked = Object.assign(new Error('Lock wait timeout exceeded'), { code: 'ER_LOCK_WAIT_TIMEOUT' });
    expect(errorReason(summarizeError(locked))).toBe('ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded');
    expect(errorReason(summarizeError(new TypeError('fetch failed')))).toBe('TypeError: fetch failed');
  });
});
