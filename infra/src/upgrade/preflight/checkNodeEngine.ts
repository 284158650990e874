import semver from 'semver';
import type { PreflightFinding } from './PreflightFinding.js';

/**
 * The Node.js of the image that will run the target against the target's `engines.node` (its
 * package.json). Ghost refuses to start on a Node.js outside that range unless told to ignore it,
 * and its native modules are built for the image's Node.js.
 */
export function checkNodeEngine(target: string, imageNode: string, engines: string | undefined): PreflightFinding[] {
  const check = 'node';
  const node = semver.valid(semver.coerce(imageNode));
  if (!node) return [{ check, level: 'fatal', message: `'${imageNode}' is not a Node.js version (e.g. 22.23.2)` }];
  if (!engines) {
    return [
      { check, level: 'warning', message: `Ghost ${target} names no engines.node: Node.js ${node} is unchecked` },
    ];
  }
  if (!semver.validRange(engines)) {
    return [{ check, level: 'fatal', message: `Ghost ${target}'s engines.node '${engines}' is not a version range` }];
  }
  if (!semver.satisfies(node, engines)) {
    return [
      {
        check,
        level: 'fatal',
        message: `the image's Node.js ${node} is outside Ghost ${target}'s engines.node '${engines}': use an image whose Node.js it accepts`,
      },
    ];
  }
  return [{ check, level: 'ok', message: `Node.js ${node} satisfies Ghost ${target}'s engines.node '${engines}'` }];
}
