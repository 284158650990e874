import { readFileSync } from 'node:fs';

/** The versions in the repository's `versions.json`, the one place they are written. */
export interface PinnedVersions {
  /** The Ghost release tested, run by `npm run local` and deployed by default. */
  readonly ghost: string;
  /** The older Ghost release the Ghost-facing tests (tag `ghost`) run against too. */
  readonly ghostCompatibility: string;
  /** The Node.js the services, Lambdas, tests and benchmarks run on. */
  readonly node: string;
  /** The Node.js the test bed runs Ghost on (both tested Ghost releases accept it). */
  readonly nodeForGhost: string;
}

export const PINNED_VERSIONS: PinnedVersions = JSON.parse(
  readFileSync(new URL('../../versions.json', import.meta.url), 'utf8'),
);

/** The major of a version string: `majorOf('1.2.3')` is 1. */
export function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}
