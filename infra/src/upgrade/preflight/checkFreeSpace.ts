import type { PreflightFinding } from './PreflightFinding.js';

/**
 * Room for the content backup the upgrade takes before it changes anything: the content's size
 * and a tenth more (files written while it copies), or the backup point is not a backup.
 */
export function checkFreeSpace(contentBytes: number, availableBytes: number): PreflightFinding[] {
  const needed = Math.ceil(contentBytes * 1.1);
  if (availableBytes < needed) {
    return [
      {
        check: 'space',
        level: 'fatal',
        message: `the content backup needs ${mebibytes(needed)} and ${mebibytes(availableBytes)} is free`,
      },
    ];
  }
  return [
    {
      check: 'space',
      level: 'ok',
      message: `${mebibytes(availableBytes)} free for a content backup of ${mebibytes(contentBytes)}`,
    },
  ];
}

function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
