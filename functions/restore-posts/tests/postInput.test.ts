import { describe, expect, it } from 'vitest';
import { postInput } from '../src/postInput.js';

const NOW = Date.parse('2026-01-31T10:00:00Z');
const base = { id: 'a'.repeat(24), uuid: 'u-1', title: 'T', slug: 't' };

describe('postInput', () => {
  it('sends lexical when backed up, not the HTML, and keeps slug, dates, tags and authors', () => {
    const input = postInput(
      {
        ...base,
        status: 'published',
        lexical: '{"root":{}}',
        html: '<p>x</p>',
        published_at: '2024-05-06T07:08:09.000Z',
        url: 'https://blog.example.com/t/',
        tags: [{ id: 'x', name: 'News', slug: 'news', url: 'https://blog.example.com/tag/news/' }],
        authors: [{ id: 'y', email: 'owner@example.com', slug: 'owner' }],
      },
      NOW,
    );
    expect(input).toEqual({
      data: {
        title: 'T',
        slug: 't',
        status: 'published',
        lexical: '{"root":{}}',
        published_at: '2024-05-06T07:08:09.000Z',
        tags: [{ name: 'News', slug: 'news' }],
        authors: [{ email: 'owner@example.com' }],
      },
      source: undefined,
      notes: [],
    });
  });

  it('falls back to mobiledoc, then to HTML converted by Ghost', () => {
    expect(postInput({ ...base, status: 'draft', mobiledoc: '{"version":"0.3.1"}' }, NOW).data.mobiledoc).toBe(
      '{"version":"0.3.1"}',
    );
    expect(postInput({ ...base, status: 'draft', html: '<p>x</p>' }, NOW)).toMatchObject({
      data: { html: '<p>x</p>' },
      source: 'html',
    });
  });

  it('keeps a future schedule, and turns a past one or a sent email into a draft with a note', () => {
    const future = postInput({ ...base, status: 'scheduled', published_at: '2026-02-01T00:00:00.000Z' }, NOW);
    expect(future.data.status).toBe('scheduled');
    const past = postInput({ ...base, status: 'scheduled', published_at: '2026-01-01T00:00:00.000Z' }, NOW);
    expect(past).toMatchObject({ data: { status: 'draft' }, notes: [expect.stringContaining('time now past')] });
    const sent = postInput({ ...base, status: 'sent' }, NOW);
    expect(sent).toMatchObject({ data: { status: 'draft' }, notes: [expect.stringContaining('email-only')] });
  });

  it('keeps the tiers of a tier-only post, so it does not come back closed to every member', () => {
    const input = postInput(
      { ...base, status: 'published', visibility: 'tiers', tiers: [{ id: 't1', name: 'Gold', slug: 'gold' }] },
      NOW,
    );
    expect(input.data).toMatchObject({ visibility: 'tiers', tiers: [{ id: 't1' }] });
  });
});
