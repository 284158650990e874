import { loadConfig } from './config.js';
import { createHandler } from './createHandler.js';

// Read at init: a bad setting fails the function's start with the variable's name, not a run.
export const handler = createHandler(loadConfig(process.env));
