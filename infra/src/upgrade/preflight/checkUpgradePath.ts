import semver from 'semver';
import type { PreflightFinding } from './PreflightFinding.js';

/**
 * Ghost's supported upgrade path: within a major, any later release; to a later major, only from
 * the latest release of the current major, and at most two majors ahead. Ghost's guide: "Before
 * updating to a new major version, you must update your site to the latest minor version and not
 * be more than 2 majors behind" (https://docs.ghost.org/update-major-version). `published` is the
 * list of released versions (the npm registry's, or a given list).
 */
export function checkUpgradePath(from: string, to: string, published: readonly string[]): PreflightFinding[] {
  const check = 'path';
  const current = semver.valid(from);
  const target = semver.valid(to);
  if (!current || !target) {
    return [{ check, level: 'fatal', message: `'${!current ? from : to}' is not a version (e.g. 6.66.0)` }];
  }
  const releases = published.filter((version) => semver.valid(version) && !semver.prerelease(version));
  if (!releases.includes(target)) {
    return [{ check, level: 'fatal', message: `Ghost ${target} is not a published release` }];
  }
  if (!semver.gt(target, current)) {
    return [
      {
        check,
        level: 'fatal',
        message: `Ghost ${target} is not newer than the running ${current}: migrations only go forward (a way back is a rollback)`,
      },
    ];
  }
  const fromMajor = semver.major(current);
  const toMajor = semver.major(target);
  if (toMajor === fromMajor) {
    return [{ check, level: 'ok', message: `${current} → ${target} stays within major ${fromMajor}` }];
  }
  if (toMajor > fromMajor + 2) {
    const stepMajor = toMajor - 2;
    const stepLatest = latestOfMajor(releases, stepMajor);
    return [
      {
        check,
        level: 'fatal',
        message: `${current} → ${target} is more than two majors: upgrade to ${stepLatest ?? `the latest ${stepMajor}.x`} first`,
      },
    ];
  }
  const latest = latestOfMajor(releases, fromMajor);
  if (latest && semver.gt(latest, current)) {
    return [
      {
        check,
        level: 'fatal',
        message: `Ghost ${current} is not the latest ${fromMajor}.x: upgrade to ${latest} first, then to ${target}`,
      },
    ];
  }
  return [{ check, level: 'ok', message: `${current} is the latest ${fromMajor}.x: the supported path to ${target}` }];
}

function latestOfMajor(releases: readonly string[], major: number): string | undefined {
  return semver.maxSatisfying([...releases], `>=${major}.0.0 <${major + 1}.0.0`) ?? undefined;
}
