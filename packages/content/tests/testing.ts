// Test helpers for the content functions (not part of the deployed code).
export * from './contentTestBed.js';
export { GhostDatabase, objectId } from './ghostDatabase.js';
