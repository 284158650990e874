import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { RedirectsShapeError } from './edgeRedirectsOf.js';

/**
 * Ghost's redirects as its default file store keeps them under its content path, read-only:
 * `data/redirects.yaml` (read first, as Ghost does), else `data/redirects.json`; neither means no
 * redirects (`[]`). A file over `maxBytes` is refused (RedirectsShapeError) without reading it.
 */
export async function readGhostRedirectsFile(contentPath: string, maxBytes: number): Promise<string> {
  for (const name of ['redirects.yaml', 'redirects.json']) {
    let file: Awaited<ReturnType<typeof open>>;
    try {
      file = await open(join(contentPath, 'data', name), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    try {
      const { size } = await file.stat();
      if (size > maxBytes) throw new RedirectsShapeError(`${name} has ${size} bytes, more than ${maxBytes}`);
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await file.read(buffer, 0, size, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await file.close();
    }
  }
  return '[]';
}
