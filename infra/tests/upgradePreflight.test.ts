import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDatabaseEngine } from '../src/upgrade/preflight/checkDatabaseEngine.js';
import { checkFreeSpace } from '../src/upgrade/preflight/checkFreeSpace.js';
import { checkNodeEngine } from '../src/upgrade/preflight/checkNodeEngine.js';
import { checkTheme } from '../src/upgrade/preflight/checkTheme.js';
import { checkUpgradePath } from '../src/upgrade/preflight/checkUpgradePath.js';
import { formatFinding, verdictOf } from '../src/upgrade/preflight/PreflightFinding.js';
import { runPreflight } from '../src/upgrade/preflight/runPreflight.js';

const THEMES = fileURLToPath(new URL('./fixtures/themes/', import.meta.url));
/** A slice of Ghost's published releases around the 5 → 6 boundary. */
const PUBLISHED = [
  '4.48.8',
  '4.48.9',
  '5.0.0',
  '5.129.0',
  '5.130.5',
  '5.130.6',
  '6.0.0',
  '6.64.0',
  '6.66.0',
  '7.0.0-alpha.1',
];
/** Ghost 6.66.0's package.json `engines.node`. */
const GHOST_6_ENGINES = '^22.23.1 || ^24.20.0';

describe('the supported upgrade path', () => {
  it('accepts the latest 5.x to 6.66.0', () => {
    const [finding] = checkUpgradePath('5.130.6', '6.66.0', PUBLISHED);
    expect(finding?.level).toBe('ok');
  });

  it('refuses a major upgrade from a 5.x that is not the latest, naming the release to go to first', () => {
    const findings = checkUpgradePath('5.129.0', '6.66.0', PUBLISHED);
    expect(verdictOf(findings)).toBe('no-go');
    expect(findings[0]?.message).toContain('upgrade to 5.130.6 first');
  });

  it('allows two majors from the latest of the older one, refuses three', () => {
    expect(checkUpgradePath('4.48.9', '6.66.0', PUBLISHED)[0]?.level).toBe('ok');
    expect(checkUpgradePath('4.48.8', '6.66.0', PUBLISHED)[0]?.message).toContain('upgrade to 4.48.9 first');
    const three = checkUpgradePath('4.48.9', '7.0.0', [...PUBLISHED, '7.0.0']);
    expect(three[0]).toMatchObject({ level: 'fatal' });
    expect(three[0]?.message).toContain('upgrade to 5.130.6 first');
  });

  it('refuses an unpublished target, a prerelease, a downgrade and the same version', () => {
    for (const [from, to] of [
      ['5.130.6', '6.99.0'],
      ['6.66.0', '7.0.0-alpha.1'],
      ['6.66.0', '5.130.6'],
      ['6.66.0', '6.66.0'],
      ['5.130.6', 'latest'],
    ] as const) {
      expect(verdictOf(checkUpgradePath(from, to, PUBLISHED)), `${from} → ${to}`).toBe('no-go');
    }
  });

  it('accepts any later release within a major', () => {
    expect(checkUpgradePath('6.0.0', '6.66.0', PUBLISHED)[0]?.level).toBe('ok');
  });
});

describe("the image's Node.js against the target's engines", () => {
  it("accepts the test bed's Node.js 22.23.2 for Ghost 6.66.0", () => {
    expect(checkNodeEngine('6.66.0', '22.23.2', GHOST_6_ENGINES)[0]?.level).toBe('ok');
    expect(checkNodeEngine('6.66.0', 'v24.20.1', GHOST_6_ENGINES)[0]?.level).toBe('ok');
  });

  it('refuses Node.js 20 (what a Ghost 5 image may have) and 22 below the range', () => {
    for (const node of ['20.19.0', '22.13.1']) {
      const [finding] = checkNodeEngine('6.66.0', node, GHOST_6_ENGINES);
      expect(finding?.level).toBe('fatal');
      expect(finding?.message).toContain(GHOST_6_ENGINES);
    }
  });

  it('refuses what is not a version; warns when the target names no range', () => {
    expect(checkNodeEngine('6.66.0', 'lts', GHOST_6_ENGINES)[0]?.level).toBe('fatal');
    expect(checkNodeEngine('6.66.0', '22.23.2', undefined)[0]?.level).toBe('warning');
  });
});

describe('the theme, checked with gscan against the target major', () => {
  it('passes a theme valid for Ghost 6', async () => {
    const findings = await checkTheme(join(THEMES, 'plain'), '6.66.0');
    expect(findings).toEqual([expect.objectContaining({ level: 'ok' })]);
  });

  it("names a theme's fatal error under Ghost 6 that Ghost 5 accepted, and the helper Ghost 6 dropped", async () => {
    const onFive = await checkTheme(join(THEMES, 'uses-removed'), '5.130.6');
    expect(verdictOf(onFive)).toBe('go');
    const onSix = await checkTheme(join(THEMES, 'uses-removed'), '6.66.0');
    expect(verdictOf(onSix)).toBe('no-go');
    expect(onSix).toContainEqual(
      expect.objectContaining({
        level: 'fatal',
        code: 'GS090-NO-INVALID-CONDITIONAL-ARGUMENTS',
        files: ['index.hbs'],
      }),
    );
    expect(onSix).toContainEqual(
      expect.objectContaining({ level: 'warning', code: 'GS001-DEPR-TWITTER-URL', files: ['default.hbs'] }),
    );
    // Printed as plain text, not gscan's HTML.
    const printed = onSix.map(formatFinding).join('\n');
    expect(printed).toContain(
      'FATAL   theme GS090-NO-INVALID-CONDITIONAL-ARGUMENTS: Use exactly one argument in {{#if}}',
    );
    expect(printed).not.toContain('<code>');
  });

  it('refuses a theme directory that does not exist', async () => {
    expect(verdictOf(await checkTheme(join(THEMES, 'missing'), '6.66.0'))).toBe('no-go');
  });
});

describe('free space and the database engine', () => {
  it('needs room for the content backup and a margin', () => {
    expect(checkFreeSpace(100 * 2 ** 20, 105 * 2 ** 20)[0]?.level).toBe('fatal');
    expect(checkFreeSpace(100 * 2 ** 20, 200 * 2 ** 20)[0]?.level).toBe('ok');
  });

  it('accepts Aurora MySQL 3, refuses MySQL 5.7, warns on MariaDB', () => {
    expect(checkDatabaseEngine('6.66.0', '8.0.mysql_aurora.3.08.0')[0]?.level).toBe('ok');
    expect(checkDatabaseEngine('6.66.0', '5.7.12')[0]?.level).toBe('fatal');
    expect(checkDatabaseEngine('6.66.0', '11.8.3-MariaDB-0+deb13u1')[0]?.level).toBe('warning');
  });
});

describe('the whole preflight', () => {
  it('is go for the supported path, a valid theme and an accepted Node.js; no-go when one check is fatal', async () => {
    const input = {
      from: '5.130.6',
      to: '6.66.0',
      published: PUBLISHED,
      targetEngines: GHOST_6_ENGINES,
      imageNode: '22.23.2',
      themeDir: join(THEMES, 'plain'),
      space: { contentBytes: 10, availableBytes: 2 ** 30 },
      databaseVersion: '8.0.mysql_aurora.3.08.0',
    };
    const go = await runPreflight(input);
    expect(go.map((f) => [f.check, f.level])).toEqual([
      ['path', 'ok'],
      ['node', 'ok'],
      ['theme', 'ok'],
      ['space', 'ok'],
      ['database', 'ok'],
    ]);
    expect(verdictOf(await runPreflight({ ...input, themeDir: join(THEMES, 'uses-removed') }))).toBe('no-go');
    expect(verdictOf(await runPreflight({ ...input, imageNode: '20.19.0' }))).toBe('no-go');
  });
});
