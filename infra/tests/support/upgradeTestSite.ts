import { statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { GhostAdminClient } from '@ghost-ha/core';
import {
  type DatabaseSettings,
  GhostServer,
  ghostInstallDir,
  LocalGhost,
  LocalUpgradeSite,
  type MariaDbServer,
  makeTemporaryDirectory,
  PINNED_VERSIONS,
} from '@ghost-ha/testbed';
import { fileGhostReleases } from '../../src/upgrade/preflight/GhostReleases.js';
import type { PreflightInput } from '../../src/upgrade/preflight/runPreflight.js';

/** The upgrade the project proves: the compatibility release to the tested one. */
export const FROM = PINNED_VERSIONS.ghostCompatibility;
export const TO = PINNED_VERSIONS.ghost;
/** The target's image as the test bed runs it (testbed localImages: `ghost:<version>`). */
export const TO_IMAGE = `ghost:${TO}`;
/** A phrase at the end of the members-only post: an anonymous reader must never get it. */
export const HIDDEN_PHRASE = 'the members-only ending nobody anonymous reads';

export interface ProductionSite {
  ghost: LocalGhost;
  setUp: GhostServer;
  admin: GhostAdminClient;
  database: DatabaseSettings;
  contentDir: string;
}

/** Production: Ghost FROM on MariaDB with its own content directory, set up and seeded. */
export async function startProduction(mariadb: MariaDbServer, name = 'production'): Promise<ProductionSite> {
  const database = await mariadb.database(name);
  const contentDir = join(await makeTemporaryDirectory('ghost-ha-production-'), 'content');
  const ghost = await LocalGhost.start({ version: FROM, database, contentDir });
  const setUp = GhostServer.adopt(ghost.url, { version: FROM });
  await setUp.setUp();
  await seed(setUp);
  return { ghost, setUp, admin: setUp.admin, database, contentDir };
}

/**
 * The mirror as the cache-invalidator keeps it (key = the edge's MirrorPrefix `site` + the path):
 * each of `paths` as Ghost at `siteUrl` serves it now, which must be a 200.
 */
export async function mirrorPages(
  s3: S3Client,
  bucket: string,
  siteUrl: string,
  paths: readonly string[],
): Promise<void> {
  for (const path of paths) {
    const page = await fetch(`${siteUrl}${path}`);
    if (page.status !== 200) throw new Error(`${path} answered ${page.status}, not 200: nothing to mirror`);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `site${path}`,
        Body: Buffer.from(await page.arrayBuffer()),
        ContentType: page.headers.get('content-type') ?? 'text/html',
      }),
    );
  }
}

/** The test bed's upgrade site over production (its Ghost, database and content). */
export function upgradeSiteOf(mariadb: MariaDbServer, production: ProductionSite): LocalUpgradeSite {
  return new LocalUpgradeSite({
    mariadb,
    database: production.database.database,
    contentDir: production.contentDir,
    ghost: production.ghost,
    adminApiKey: production.setUp.adminApiKey,
  });
}

/**
 * Content in every state an upgrade must keep: published, draft, scheduled, members-only and paid
 * posts, a page, public and internal tags, members with labels, a second newsletter, a paid tier.
 */
async function seed(site: GhostServer): Promise<void> {
  const admin = site.admin;
  for (let i = 1; i <= 3; i++) {
    await admin.add(
      'posts',
      {
        title: `Published post ${i}`,
        html: `<p>Body of published post ${i}.</p>`,
        status: 'published',
        tags: ['News', ...(i === 1 ? ['#internal'] : [])],
      },
      { source: 'html' },
    );
  }
  await admin.add(
    'posts',
    { title: 'A draft', html: '<p>Draft body.</p>', status: 'draft', tags: ['Guides'] },
    { source: 'html' },
  );
  await admin.add(
    'posts',
    {
      title: 'Scheduled post',
      html: '<p>Scheduled body.</p>',
      status: 'scheduled',
      published_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    },
    { source: 'html' },
  );
  await admin.add(
    'posts',
    {
      title: 'Members only post',
      html: `<p>The start of a members-only post.</p><p>${HIDDEN_PHRASE}</p>`,
      status: 'published',
      visibility: 'members',
      tags: ['News'],
    },
    { source: 'html' },
  );
  await admin.add(
    'posts',
    { title: 'Paid post', html: '<p>For paying members.</p>', status: 'published', visibility: 'paid' },
    { source: 'html' },
  );
  await admin.add(
    'pages',
    { title: 'About', html: '<p>About this site.</p>', status: 'published' },
    { source: 'html' },
  );
  await expectCreated(
    site.staffRequest('POST', '/newsletters/', {
      newsletters: [{ name: 'Weekly digest', description: 'Every week', status: 'active' }],
    }),
    'a newsletter',
  );
  await expectCreated(
    site.staffRequest('POST', '/tiers/', {
      tiers: [
        {
          name: 'Supporter',
          description: 'Paid membership',
          visibility: 'public',
          monthly_price: 500,
          yearly_price: 5000,
          currency: 'usd',
          benefits: ['Everything'],
        },
      ],
    }),
    'a paid tier',
  );
  for (let i = 1; i <= 3; i++) {
    await admin.request('POST', '/members/', {
      body: {
        members: [
          { email: `member${i}@example.com`, name: `Member ${i}`, labels: [{ name: i === 1 ? 'VIP' : 'Reader' }] },
        ],
      },
    });
  }
}

async function expectCreated(request: Promise<{ status: number; body: unknown }>, what: string): Promise<void> {
  const { status, body } = await request;
  if (status !== 200 && status !== 201)
    throw new Error(`Creating ${what} failed: HTTP ${status} ${JSON.stringify(body)}`);
}

/** Preflight's input for FROM → TO on this site: the installed TO's package.json, the test bed's Node. */
export async function preflightInput(
  mariadb: MariaDbServer,
  site: ProductionSite,
  theme = join(site.contentDir, 'themes', 'casper'),
): Promise<PreflightInput> {
  const dir = await makeTemporaryDirectory('ghost-ha-releases-');
  const versionsFile = join(dir, 'versions.json');
  await writeFile(versionsFile, JSON.stringify([FROM, TO]));
  const releases = fileGhostReleases(versionsFile, join(ghostInstallDir(TO), 'package.json'));
  const space = await statfs(site.contentDir);
  const rows = (await mariadb.rootQuery('SELECT VERSION() AS v')) as { v: string }[];
  return {
    from: FROM,
    to: TO,
    published: await releases.published(),
    targetEngines: await releases.enginesNode(TO),
    imageNode: PINNED_VERSIONS.nodeForGhost,
    themeDir: theme,
    space: { contentBytes: 50 * 2 ** 20, availableBytes: space.bavail * space.bsize },
    databaseVersion: rows[0]?.v ?? '',
  };
}
