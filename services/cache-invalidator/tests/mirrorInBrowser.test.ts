// @module-tag ghost

import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { ghostAdminToken } from '@ghost-ha/core';
import { chromiumBinary, OriginGroupEmulator, waitFor } from '@ghost-ha/testbed';
import pixelmatch from 'pixelmatch';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIRROR_PREFIX, MirrorTestBed } from './support/MirrorTestBed.js';

function report(...parts: unknown[]): void {
  process.stdout.write(`${parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(' ')}\n`);
}

/**
 * Pages differ by at most this share of their pixels (pixelmatch, its default per-pixel colour
 * threshold 0.1). A missing stylesheet, font or image changes far more than that: a post's image
 * alone covers several per cent of the page.
 */
const MAX_DIFFERENT_PIXELS = 0.001;
const VIEWPORT = { width: 1280, height: 2000 };

/** One request of the page to the site (the document or a subresource) and who answered it. */
interface Load {
  path: string;
  type: string;
  status: number | string;
  servedBy: string;
  failover?: string;
}

interface Visit {
  screenshot: Buffer;
  loads: Load[];
  /** The page's web fonts in use and whether they loaded (FontFace status). */
  fonts: string[];
  /** The paths of the page's icons (a browser with a tab bar loads them; headless Chromium does not). */
  icons: string[];
  /** Requests to other hosts (Ghost's scripts from a CDN): blocked in both runs, not the mirror's. */
  elsewhere: string[];
}

/**
 * What a reader's browser shows during an outage: real Ghost behind the gate, the refresher's mirror
 * in moto's S3, CloudFront as edge.yaml configures it (the strict emulator), and headless Chromium.
 * The browser asks for the site's own URLs (the ones in Ghost's pages); each goes to the emulator,
 * as DNS would send it to the distribution.
 */
describe('the mirror in a real browser: home, a post and a tag page with Ghost stopped look as with Ghost up', () => {
  let bed: MirrorTestBed;
  let browser: Browser;
  let postPath = '';
  const up = new Map<string, Visit>();
  const down = new Map<string, Visit>();
  /** Answers of the edge with Ghost stopped to requests the browser did not make itself. */
  const asked = new Map<string, Load>();
  const askedUp = new Map<string, Load>();

  beforeAll(async () => {
    bed = await MirrorTestBed.start({ seedPosts: 3 });
    const image = await uploadImage(bed, gradientPng(1200, 800));
    const post = await bed.ghost.admin.add(
      'posts',
      {
        title: 'A post with a picture',
        feature_image: image,
        html: `<p>Words before the picture.</p><figure class="kg-card kg-image-card"><img src="${image}" class="kg-image" alt="A gradient" width="1200" height="800"></figure><p>Words after it.</p>`,
        status: 'published',
        tags: ['News'],
      },
      { source: 'html' },
    );
    postPath = new URL(post.url as string).pathname;
    // The first start on an empty bucket builds the whole mirror from the sitemaps.
    await bed.startInvalidator();
    browser = await chromium.launch({ executablePath: chromiumBinary(), headless: true, args: ['--no-sandbox'] });
    const pages = ['/', postPath, '/tag/news/'];
    await waitFor(
      async () => {
        for (const path of pages) if ((await bed.mirrored(path)) === undefined) return undefined;
        return true;
      },
      { what: 'the mirror to hold the pages', timeoutMs: 120_000, intervalMs: 500 },
    );
    // The build is queued in the background after start: only once it has written pages does
    // idle() wait for it (called at once, it can find the queue still empty).
    expect(await bed.invalidator.mirror?.idle(120_000)).toBe(true);
    // The reference comes from Ghost: the gate must pass Ghost's answers (its verdict can fail for
    // a moment on a loaded machine, and the edge then rightly serves the mirror); tried again then.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await bed.verdictBecomes(200, 60_000);
      await withEdge(async (emulator) => {
        for (const path of pages) up.set(path, await visit(browser, bed, emulator, path));
        for (const icon of new Set(pages.flatMap((path) => up.get(path)?.icons ?? []))) {
          askedUp.set(icon, await askEdge(emulator, icon));
        }
      });
      const fromGhost = pages.every((path) => up.get(path)?.loads.every((load) => load.servedBy === 'alb'));
      if (fromGhost) break;
      const others = pages.flatMap((path) => up.get(path)?.loads.filter((load) => load.servedBy !== 'alb') ?? []);
      report(`attempt ${attempt}: with Ghost up, the edge served these from elsewhere than Ghost:`, others);
    }
    await bed.ghost.stop();
    await withEdge(async (emulator) => {
      for (const path of pages) down.set(path, await visit(browser, bed, emulator, path));
      // What the page loaded with Ghost up but not now (a browser picks one of an image's sizes
      // as it lays the page out), and the icons: asked of the edge directly.
      for (const path of pages) {
        const loaded = new Set(down.get(path)?.loads.map((load) => load.path));
        const wanted = [...(up.get(path)?.loads.map((load) => load.path) ?? []), ...(down.get(path)?.icons ?? [])];
        for (const request of new Set(wanted.filter((request) => !loaded.has(request)))) {
          asked.set(request, await askEdge(emulator, request));
        }
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await bed?.destroy();
  });

  /** A distribution of its own (an empty cache) for each run, so no answer of one run serves the other. */
  async function withEdge(run: (emulator: OriginGroupEmulator) => Promise<void>): Promise<void> {
    const emulator = await OriginGroupEmulator.start({
      primary: { id: 'alb', url: bed.gateUrl },
      secondary: { id: 'mirror', client: bed.s3, bucket: bed.bucket },
      // The template's own connection and read timeouts: a cold Ghost may take seconds for a page.
      viewerHost: 'blog.example.com',
    });
    try {
      await run(emulator);
    } finally {
      await emulator.close();
    }
  }

  describe.each([
    ['the home page', () => '/'],
    ['a post with an image', () => postPath],
    ['a tag page', () => '/tag/news/'],
  ])('%s', (_name, pathOf) => {
    it('with Ghost up, the page, its stylesheets, scripts, fonts and images all come from Ghost (the reference is complete)', () => {
      const visit = up.get(pathOf());
      report(`Ghost up, ${pathOf()}:`, visit?.loads, 'fonts:', visit?.fonts, 'elsewhere (blocked):', visit?.elsewhere);
      expect(visit?.fonts.length).toBeGreaterThan(0);
      expect(visit?.fonts.filter((font) => !font.endsWith(': loaded'))).toEqual([]);
      expect(visit?.loads.filter((load) => load.status !== 200 || load.servedBy !== 'alb')).toEqual([]);
      expect(visit?.loads.some((load) => load.type === 'stylesheet')).toBe(true);
      expect(visit?.loads.some((load) => load.type === 'script')).toBe(true);
      expect(visit?.loads.some((load) => load.type === 'font')).toBe(true);
      if (pathOf() === postPath) expect(visit?.loads.some((load) => load.type === 'image')).toBe(true);
    });

    it('with Ghost stopped, the page and every subresource answer 200 from the mirror', () => {
      const visit = down.get(pathOf());
      report(`Ghost stopped, ${pathOf()}:`, visit?.loads, 'fonts:', visit?.fonts);
      expect(visit?.fonts).toEqual(up.get(pathOf())?.fonts);
      expect(visit?.loads.filter((load) => load.status !== 200 || load.servedBy !== 'mirror')).toEqual([]);
      // Whatever the page loaded with Ghost up, the mirror has too.
      const loaded = new Set(visit?.loads.map((load) => load.path));
      const others = (up.get(pathOf())?.loads ?? []).filter((load) => !loaded.has(load.path));
      const answers = others.map((load) => asked.get(load.path) ?? { ...load, status: 'not asked' });
      report(`Ghost stopped, loaded only with Ghost up, asked of the edge:`, answers);
      expect(answers.filter((load) => load.status !== 200 || load.servedBy !== 'mirror')).toEqual([]);
    });

    // Browsers ask for /favicon.ico when the page names no icon (Ghost names one only once a
    // publication icon is set): the refresher stores it with every full refresh.
    it('with Ghost stopped, the icon a browser loads for the page answers 200 from the mirror', () => {
      const icons = down.get(pathOf())?.icons ?? [];
      const reference = icons.map((icon) => askedUp.get(icon));
      const answers = icons.map((icon) => asked.get(icon));
      report(`icons of ${pathOf()}, Ghost up:`, reference, 'Ghost stopped:', answers);
      expect(icons.length).toBeGreaterThan(0);
      expect(reference.every((load) => load?.status === 200 && load.servedBy === 'alb')).toBe(true);
      expect(answers.filter((load) => load?.status !== 200 || load.servedBy !== 'mirror')).toEqual([]);
    });

    it(`with Ghost stopped, looks like the page with Ghost up (under ${MAX_DIFFERENT_PIXELS * 100} % of pixels differ)`, () => {
      const ratio = differentPixels(up.get(pathOf())?.screenshot, down.get(pathOf())?.screenshot);
      report(`screenshots of ${pathOf()}, Ghost up vs stopped: ${(ratio * 100).toFixed(3)} % of pixels differ`);
      expect(ratio).toBeLessThan(MAX_DIFFERENT_PIXELS);
    });
  });

  it('the checks see what the mirror lacks: with the web font and the post’s images removed, both fail', async () => {
    const loads = down.get(postPath)?.loads ?? [];
    const removed = loads.filter((load) => load.type === 'font' || load.type === 'image').map((load) => load.path);
    expect(removed.some((path) => path.includes('/fonts/'))).toBe(true);
    await bed.s3.send(
      new DeleteObjectsCommand({
        Bucket: bed.bucket,
        Delete: { Objects: removed.map((path) => ({ Key: `${MIRROR_PREFIX}${path.split('?')[0]}` })) },
      }),
    );
    let lacking: Visit | undefined;
    await withEdge(async (emulator) => {
      lacking = await visit(browser, bed, emulator, postPath);
    });
    const failing = lacking?.loads.filter((load) => load.status !== 200).map((load) => load.path);
    const ratio = differentPixels(up.get(postPath)?.screenshot, lacking?.screenshot);
    report(
      `control: without ${removed.join(', ')}: failing ${failing?.join(', ')}; ${(ratio * 100).toFixed(3)} % of pixels differ`,
    );
    // Every removed file fails (the browser may then try an image's other sizes too).
    expect(removed.filter((path) => !failing?.includes(path))).toEqual([]);
    expect(ratio).toBeGreaterThan(MAX_DIFFERENT_PIXELS);
  });
});

/** What the edge answers for a path, and who answered. */
async function askEdge(emulator: OriginGroupEmulator, path: string): Promise<Load> {
  const answer = await fetch(`${emulator.url}${path}`, { redirect: 'manual' });
  await answer.arrayBuffer();
  const routed = emulator.routed.findLast((entry) => entry.path === path);
  return {
    path,
    type: 'asked',
    status: answer.status,
    servedBy: routed ? (routed.storedBy ?? routed.servedBy) : 'nobody',
    ...(routed?.failoverReason ? { failover: routed.failoverReason } : {}),
  };
}

/**
 * Opens `path` in a fresh browser context (no cache), sending the site's requests to the edge; what
 * the first view loads is recorded, the screenshot is of a second view.
 */
async function visit(
  browser: Browser,
  bed: MirrorTestBed,
  emulator: OriginGroupEmulator,
  path: string,
): Promise<Visit> {
  const site = new URL(bed.ghost.url).origin;
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  const loads: Load[] = [];
  const elsewhere: string[] = [];
  try {
    const page = await context.newPage();
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.origin !== site) {
        elsewhere.push(url.href);
        await route.abort('blockedbyclient');
        return;
      }
      await route.continue({ url: `${emulator.url}${url.pathname}${url.search}` });
    });
    // Who answered, and why the edge asked the mirror (the primary's status, `connection`, `timeout`).
    const answered = (load: Load) => {
      const routed = emulator.routed.findLast((entry) => entry.path === load.path);
      load.servedBy = routed ? (routed.storedBy ?? routed.servedBy) : 'nobody';
      if (routed?.failoverReason) load.failover = routed.failoverReason;
    };
    let recording = true;
    page.on('response', (response) => {
      if (!recording) return;
      // The URL the edge was asked for (Chromium reports the rewritten one).
      const url = new URL(response.url());
      if (url.origin !== site && url.origin !== emulator.url) return;
      const request = `${url.pathname}${url.search}`;
      loads.push({ path: request, type: response.request().resourceType(), status: response.status(), servedBy: '' });
    });
    page.on('requestfailed', (request) => {
      if (!recording) return;
      const url = new URL(request.url());
      if (url.origin !== site && url.origin !== emulator.url) return;
      const failure = request.failure()?.errorText ?? 'failed';
      loads.push({ path: `${url.pathname}${url.search}`, type: request.resourceType(), status: failure, servedBy: '' });
    });
    await page.goto(`${site}${path}`, { waitUntil: 'networkidle', timeout: 60_000 });
    recording = false;
    // The screenshot is of a second view, as a returning reader sees the page: Source's web font is
    // `font-display: optional`, so on a first view it shows only if it arrives within about 100 ms
    // (a cold Ghost or a busy machine decides that, not the mirror); from the browser's cache it does.
    await page.goto(`${site}${path}`, { waitUntil: 'networkidle', timeout: 60_000 });
    const screenshot = await settledScreenshot(page);
    const fonts = (await page.evaluate(
      '[...document.fonts].filter((face) => face.status !== "unloaded").map((face) => face.family + " " + face.style + " " + face.weight + ": " + face.status)',
    )) as string[];
    // The page's icon: a browser with a tab bar loads the one a `<link rel="icon">` names, or
    // /favicon.ico without one (Ghost names one only once a publication icon is set); headless
    // Chromium loads neither, so the test asks the edge for it (`askEdge`).
    const named = (await page.evaluate(
      '[...document.querySelectorAll(\'link[rel~="icon"]\')].map((link) => new URL(link.href).pathname)',
    )) as string[];
    const icons = named.length > 0 ? named : ['/favicon.ico'];
    for (const load of loads) answered(load);
    return { screenshot, loads, icons, fonts, elsewhere };
  } finally {
    await context.close();
  }
}

/**
 * A full-page screenshot once the page has settled: fonts and images loaded and decoded, and two
 * screenshots in a row alike (a web font swapping in late would otherwise make the runs differ).
 */
async function settledScreenshot(page: Page): Promise<Buffer> {
  // The whole page in the viewport first, so lazily loaded images below the fold load now rather
  // than while the screenshot is taken.
  const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
  await page.setViewportSize({ width: VIEWPORT.width, height: Math.max(VIEWPORT.height, Math.ceil(height)) });
  // Runs in the page (a string: the project's type-check has no DOM types).
  await page.evaluate(
    'Promise.all([document.fonts.ready, ...[...document.images].map((img) => img.decode().catch(() => undefined))])',
  );
  await page.waitForLoadState('networkidle');
  await page.waitForFunction('document.fonts.status === "loaded"', undefined, { timeout: 30_000 });
  let last = await page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide' });
  for (let attempt = 0; attempt < 10; attempt += 1) {
    await page.waitForTimeout(200);
    const next = await page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide' });
    if (next.equals(last)) return next;
    last = next;
  }
  return last;
}

/**
 * The share of pixels that differ: within the height both screenshots have, by pixelmatch (its
 * default per-pixel colour threshold, 0.1), and every row only the taller one has.
 */
function differentPixels(a: Buffer | undefined, b: Buffer | undefined): number {
  if (!a || !b) return 1;
  const [first, second] = [PNG.sync.read(a), PNG.sync.read(b)];
  if (first.width !== second.width) return 1;
  const { width } = first;
  const height = Math.min(first.height, second.height);
  const rows = (png: PNG) => png.data.subarray(0, width * height * 4);
  const count = pixelmatch(rows(first), rows(second), undefined, width, height, { threshold: 0.1 });
  const tallest = Math.max(first.height, second.height);
  return (count + width * (tallest - height)) / (width * tallest);
}

/** Uploads an image through Ghost's Admin API (as the editor does) and returns its URL. */
async function uploadImage(bed: MirrorTestBed, png: Buffer): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'gradient.png');
  form.append('purpose', 'image');
  const response = await fetch(`${bed.ghost.url}/ghost/api/admin/images/upload/`, {
    method: 'POST',
    headers: { Authorization: `Ghost ${ghostAdminToken(bed.ghost.adminApiKey)}` },
    body: form,
  });
  const body = (await response.json()) as { images?: { url: string }[] };
  const url = body.images?.[0]?.url;
  if (response.status !== 201 || !url) throw new Error(`Image upload: HTTP ${response.status} ${JSON.stringify(body)}`);
  return url;
}

/** A colourful RGB gradient as a PNG, large enough for Ghost to make its responsive sizes. */
function gradientPng(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = (y * width + x) * 4;
      png.data[at] = Math.round((x / width) * 255);
      png.data[at + 1] = Math.round((y / height) * 255);
      png.data[at + 2] = 160;
      png.data[at + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
