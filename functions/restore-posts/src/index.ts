// For the benchmark: the function as deployed.
export { loadConfig, type RestorePostsConfig } from './config.js';
export { createHandler, type RestorePostsHandler } from './createHandler.js';
export type { RestorePostsResult } from './RestorePosts.js';
