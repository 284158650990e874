// Setup file of the `integration` Vitest project: tells the test bed the running file's tags, so
// GhostServer refuses to start for a file that lacks the `ghost` tag (which would leave it out of
// the run on the compatibility Ghost release).
import { beforeAll } from 'vitest';
import { TEST_FILE_TAGS_VARIABLE } from '../src/GhostServer.js';

// biome-ignore lint/correctness/noEmptyPattern: Vitest wants the fixtures destructured; the file comes second.
beforeAll(({}, file) => {
  process.env[TEST_FILE_TAGS_VARIABLE] = (file.tags ?? []).join(',');
});
