export { createDistribution, invalidationsIn, motoCloudFront, type RecordedInvalidation } from './cloudFrontInMoto.js';
export { freePort } from './freePort.js';
export { GhostServer, type GhostServerOptions, OWNER } from './GhostServer.js';
export { ManagedProcess, type ManagedProcessOptions } from './ManagedProcess.js';
export { type DatabaseSettings, MariaDbServer } from './MariaDbServer.js';
export { MOTO_CREDENTIALS, MOTO_REGION, MotoServer } from './MotoServer.js';
export {
  type HttpOriginMember,
  OriginGroupEmulator,
  type OriginGroupEmulatorOptions,
  type RoutedRequest,
  type S3OriginMember,
} from './OriginGroupEmulator.js';
export { ghostInstallDir, ghostVersion, nodeBinaryFor, pythonToolsBin, REPO_ROOT } from './tools.js';
export { type ReceivedRequest, WebhookListener } from './WebhookListener.js';
export { type WaitOptions, waitFor } from './waitFor.js';
