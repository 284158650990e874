// Setup file of every Vitest project: after each test file, the directories it got from
// makeTemporaryDirectory are removed.
import { afterAll } from 'vitest';
import { removeTemporaryDirectories } from '../src/temporaryDirectories.js';

afterAll(removeTemporaryDirectories);
