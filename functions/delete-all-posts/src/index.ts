// For restore-posts' round-trip tests and the benchmark: the function as deployed.
export { type DeleteAllPostsConfig, loadConfig } from './config.js';
export { createHandler, type DeleteAllPostsHandler } from './createHandler.js';
export type { DeleteAllPostsResult } from './DeleteAllPosts.js';
