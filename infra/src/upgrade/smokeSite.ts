import type { GhostAdminClient } from '@ghost-ha/core';

/** What the smoke test asks for: pages a reader sees, and what must not be in one of them. */
export interface SmokeProbes {
  /** A published public post's path, e.g. `/welcome/`. */
  readonly postPath: string;
  /** A tag page with posts, e.g. `/tag/news/`. */
  readonly tagPath: string;
  /** A members-only post, and a phrase of its body that an anonymous reader must not get. */
  readonly membersOnly?: { readonly path: string; readonly hiddenPhrase: string };
}

/** One page as an anonymous reader got it, reduced to what should not change across an upgrade. */
export interface SmokePage {
  readonly name: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
  /** The page's `<title>`, the feed's item titles (sorted), or the Admin API's figures. */
  readonly summary: string;
  /** A problem with this page alone (not a difference from production). */
  readonly problem?: string;
}

const PAGE_BYTES = 4 * 2 ** 20;

/**
 * Reads the site as an anonymous reader and through the Admin API: home, a post, a tag page, the
 * RSS feed, the sitemap, a members-only post (its body must stay hidden), the Admin API's site and
 * post count. Each answer is bounded in size and time.
 */
export async function smokeSite(
  url: string,
  probes: SmokeProbes,
  admin: GhostAdminClient,
  timeoutMs = 30_000,
): Promise<SmokePage[]> {
  const pages: SmokePage[] = [];
  const page = async (name: string, path: string, summarize: (body: string) => string, hidden?: string) => {
    const started = performance.now();
    // Paths come from the site's content (slugs): they never choose another host.
    const target = new URL(path, url);
    if (!path.startsWith('/') || target.origin !== new URL(url).origin) {
      pages.push({ name, path, status: 0, ms: 0, summary: '', problem: 'not a path on the site' });
      return;
    }
    try {
      const response = await fetch(target, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      const body = await readBounded(response, PAGE_BYTES);
      const ms = Math.round(performance.now() - started);
      const problem =
        response.status !== 200
          ? `HTTP ${response.status}`
          : hidden && body.includes(hidden)
            ? 'shows a members-only body to an anonymous reader'
            : undefined;
      pages.push({
        name,
        path,
        status: response.status,
        ms,
        summary: summarize(body),
        ...(problem ? { problem } : {}),
      });
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      const reason = error instanceof Error ? error.message : String(error);
      pages.push({ name, path, status: 0, ms, summary: '', problem: reason });
    }
  };
  await page('home', '/', titleOf);
  await page('post', probes.postPath, titleOf);
  await page('tag page', probes.tagPath, titleOf);
  await page('rss', '/rss/', feedTitles);
  await page('sitemap', '/sitemap.xml', (body) => (body.includes('<sitemapindex') ? 'sitemap index' : 'no index'));
  if (probes.membersOnly) {
    await page('members-only post', probes.membersOnly.path, titleOf, probes.membersOnly.hiddenPhrase);
  }
  const started = performance.now();
  try {
    const site = (await admin.site()) as { title?: unknown };
    const posts = await admin.count('posts');
    pages.push({
      name: 'admin api',
      path: '/ghost/api/admin/site/',
      status: 200,
      ms: Math.round(performance.now() - started),
      summary: `title ${String(site.title)}, ${posts} posts`,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    pages.push({ name: 'admin api', path: '/ghost/api/admin/site/', status: 0, ms: 0, summary: '', problem: reason });
  }
  return pages;
}

/** The differences between two smoke runs of the same site (production and its upgraded copy). */
export function compareSmoke(production: readonly SmokePage[], candidate: readonly SmokePage[]): string[] {
  const differences: string[] = [];
  for (const page of candidate) {
    if (page.problem) differences.push(`${page.name} ${page.path}: ${page.problem}`);
    const before = production.find((p) => p.name === page.name);
    if (!before) continue;
    if (before.status !== page.status) {
      differences.push(`${page.name} ${page.path}: HTTP ${before.status} before, ${page.status} after`);
    } else if (before.summary !== page.summary) {
      differences.push(`${page.name} ${page.path}: '${before.summary}' before, '${page.summary}' after`);
    }
  }
  return differences;
}

/** The body's first `limit` bytes as text; the rest is not read. */
async function readBounded(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    while (reader && total < limit) {
      const next = await reader.read();
      if (next.done) break;
      parts.push(next.value);
      total += next.value.byteLength;
    }
  } finally {
    await reader?.cancel().catch(() => undefined);
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}

function titleOf(html: string): string {
  return decode(/<title>([^<]*)<\/title>/i.exec(html)?.[1] ?? '(no title)');
}

function feedTitles(xml: string): string {
  const items = [...xml.matchAll(/<item>[\s\S]*?<title>(?:<!\[CDATA\[)?([\s\S]*?)(?:\]\]>)?<\/title>/g)];
  return items
    .map((m) => decode(m[1] ?? '').trim())
    .sort()
    .join(' | ');
}

function decode(text: string): string {
  return text
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .trim();
}
