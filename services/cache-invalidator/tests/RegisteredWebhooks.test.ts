import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegisteredWebhooks } from '../src/RegisteredWebhooks.js';
import { newJournalDir } from './support/startInvalidator.js';

const ID_A = '6489f3f0a1b2c3d4e5f60718';
const ID_B = '6489f3f0a1b2c3d4e5f60719';

describe('RegisteredWebhooks', () => {
  it('keeps ids across instances (restarts) and merges later registrations', async () => {
    const dir = await newJournalDir();
    expect(await new RegisteredWebhooks(dir).load()).toEqual({});
    await new RegisteredWebhooks(dir).add({ 'post.published': ID_A });
    await new RegisteredWebhooks(dir).add({ 'site.changed': ID_B });
    expect(await new RegisteredWebhooks(dir).load()).toEqual({ 'post.published': ID_A, 'site.changed': ID_B });
    expect(JSON.parse(await readFile(join(dir, 'registered-webhooks.json'), 'utf8'))).toEqual({
      'post.published': ID_A,
      'site.changed': ID_B,
    });
  });

  it('ignores a file that is not JSON, and values that are not Ghost ids (they go into a URL path)', async () => {
    const dir = await newJournalDir();
    await writeFile(join(dir, 'registered-webhooks.json'), '{"post.published":');
    expect(await new RegisteredWebhooks(dir).load()).toEqual({});
    await writeFile(
      join(dir, 'registered-webhooks.json'),
      JSON.stringify({ 'post.published': ID_A, 'site.changed': '../settings', 'tag.edited': 7 }),
    );
    expect(await new RegisteredWebhooks(dir).load()).toEqual({ 'post.published': ID_A });
  });
});
