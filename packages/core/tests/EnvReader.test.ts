import { describe, expect, it } from 'vitest';
import { EnvReader } from '../src/EnvReader.js';
import { ConfigError } from '../src/errors.js';

describe('EnvReader', () => {
  it('reads typed values and applies defaults for unset or empty variables', () => {
    const env = new EnvReader({ PORT: '8080', FLAG: 'yes', LIST: ' a, b ,,c', EMPTY: '  ' });
    expect(env.int('PORT', { example: '8080', min: 0, max: 65535 })).toBe(8080);
    expect(env.bool('FLAG', { default: false, example: 'true' })).toBe(true);
    expect(env.list('LIST', { example: 'a,b' })).toEqual(['a', 'b', 'c']);
    expect(env.string('EMPTY', { default: 'fallback', example: 'x' })).toBe('fallback');
    expect(env.int('MISSING', { default: 5, example: '5' })).toBe(5);
    env.done();
  });

  it('collects every problem and names the variable, the problem and an example', () => {
    const env = new EnvReader({ PORT: '80a', URL: 'https://site.com/', MODE: 'loud', RATIO: 'x' });
    env.int('PORT', { example: '8080' });
    env.url('URL', { example: 'https://site.com' });
    env.oneOf('MODE', ['quiet', 'verbose'] as const, { default: 'quiet', example: 'verbose' });
    env.string('REQUIRED', { example: 'value' });
    env.number('RATIO', { default: 1, example: '0.5' });
    let error: unknown;
    try {
      env.done();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems).toEqual([
      "'PORT' is not a whole number (got '80a'). E.g. PORT=8080",
      "'URL' must not have a trailing slash (got 'https://site.com/'). E.g. URL=https://site.com",
      "'MODE' must be one of quiet, verbose (got 'loud'). E.g. MODE=verbose",
      "'REQUIRED' is required. E.g. REQUIRED=value",
      "'RATIO' is not a number (got 'x'). E.g. RATIO=0.5",
    ]);
    expect((error as Error).name).toBe('ConfigError');
  });

  it('enforces ranges and URL schemes', () => {
    const env = new EnvReader({ PORT: '70000', URL: 'ftp://x', TIMEOUT: '-1' });
    env.int('PORT', { example: '8080', max: 65535 });
    env.url('URL', { example: 'https://site.com' });
    env.int('TIMEOUT', { default: 1, example: '1000', min: 0 });
    expect(() => env.done()).toThrow(
      /'PORT' must be at most 65535[\s\S]*'URL' must start with http[\s\S]*'TIMEOUT' must be at least 0/,
    );
  });

  it('keeps a subdirectory in a URL', () => {
    const env = new EnvReader({ URL: 'https://example.com/blog' });
    expect(env.url('URL', { example: 'https://site.com' })).toBe('https://example.com/blog');
    env.done();
  });
});
