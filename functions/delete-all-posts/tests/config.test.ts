import { ConfigError } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { parseDeleteRequest } from '../src/DeleteRequest.js';

const REQUIRED = { GHOST_SECRET_ID: 'ghost/blog', BACKUP_BUCKET: 'backups', BACKUP_SIGNING_SECRET_ID: 'ghost/signing' };

describe('delete-all-posts config', () => {
  it('names every missing or bad variable at once, with an example', () => {
    const error = (() => {
      try {
        loadConfig({ FALLBACK_CONCURRENCY: '0' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^'GHOST_SECRET_ID' is required\. E\.g\. GHOST_SECRET_ID=/),
      expect.stringMatching(/^'BACKUP_BUCKET' is required/),
      expect.stringMatching(/^'BACKUP_SIGNING_SECRET_ID' is required/),
      expect.stringMatching(/^'FALLBACK_CONCURRENCY' must be at least 1/),
    ]);
  });

  it('uses path-style S3 only against a custom endpoint, unless told otherwise', () => {
    expect(loadConfig(REQUIRED).s3ForcePathStyle).toBe(false);
    expect(loadConfig({ ...REQUIRED, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).s3ForcePathStyle).toBe(true);
    expect(
      loadConfig({ ...REQUIRED, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_S3_FORCE_PATH_STYLE: 'false' })
        .s3ForcePathStyle,
    ).toBe(false);
  });

  it('ends the backup prefix with a slash and defaults the rest', () => {
    expect(loadConfig({ ...REQUIRED, BACKUP_PREFIX: '/backups' })).toMatchObject({
      backupPrefix: 'backups/',
      cloudfrontDistributionId: undefined,
      fallbackConcurrency: 4,
      timeMarginMs: 20_000,
    });
  });
});

describe('delete-all-posts event', () => {
  it('is a dry run of every post unless told otherwise', () => {
    expect(parseDeleteRequest(undefined)).toEqual({
      dryRun: true,
      confirmSite: undefined,
      filter: 'status:[published,draft,scheduled,sent]',
      resources: ['posts'],
    });
  });

  it('rejects values that would change what runs if misread', () => {
    expect(() => parseDeleteRequest({ dryRun: 'false' })).toThrow(/'dryRun' must be true or false/);
    expect(() => parseDeleteRequest({ filter: ' ' })).toThrow(/'filter' must be a non-empty NQL filter/);
    expect(() => parseDeleteRequest({ confirmSite: '' })).toThrow(/'confirmSite' must be the site's host/);
    expect(() => parseDeleteRequest([])).toThrow(/must be a JSON object/);
    expect(parseDeleteRequest({ includePages: true, filter: 'tag:x' }).resources).toEqual(['posts', 'pages']);
  });

  it('turns the tag and author shorthands into quoted NQL, combined with a filter by "and"', () => {
    expect(parseDeleteRequest({ tag: 'old-news' }).filter).toBe("tag:'old-news'");
    expect(parseDeleteRequest({ tag: ['a', 'b'], author: 'jane' }).filter).toBe("tag:['a','b']+author:'jane'");
    expect(parseDeleteRequest({ filter: 'status:draft', tag: "it's" }).filter).toBe("(status:draft)+tag:'it\\'s'");
    expect(parseDeleteRequest({ filter: 'status:draft' }).filter).toBe('status:draft');
    expect(() => parseDeleteRequest({ tag: [] })).toThrow(/'tag' must be a tag slug or a list of slugs/);
    expect(() => parseDeleteRequest({ author: 3 })).toThrow(/'author' must be a author slug/);
  });
});
