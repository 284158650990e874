export {
  type AlarmEvaluation,
  type EmfDocument,
  evaluateAlarm,
  parseEmfLines,
  type ResolvedAlarm,
  resolveAlarm,
} from './CloudWatchAlarmModel.js';
export { createDistribution, invalidationsIn, motoCloudFront, type RecordedInvalidation } from './cloudFrontInMoto.js';
export { freePort } from './freePort.js';
export { GhostServer, type GhostServerOptions, OWNER } from './GhostServer.js';
export { ManagedProcess, type ManagedProcessOptions } from './ManagedProcess.js';
export { type DatabaseSettings, MariaDbServer } from './MariaDbServer.js';
export { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, type MotoServerOptions } from './MotoServer.js';
export {
  type HttpOriginMember,
  OriginGroupEmulator,
  type OriginGroupEmulatorOptions,
  type RoutedRequest,
  type S3OriginMember,
} from './OriginGroupEmulator.js';
export { majorOf, PINNED_VERSIONS, type PinnedVersions } from './pinnedVersions.js';
export { type ExitRequest, type StopOnExitRequestOptions, stopOnExitRequest } from './stopOnExitRequest.js';
export { makeTemporaryDirectory, removeTemporaryDirectories } from './temporaryDirectories.js';
export { ghostInstallDir, ghostNodeBinary, ghostVersion, pythonToolsBin, REPO_ROOT } from './tools.js';
export { type ApiInput, validateAwsInputs } from './validateAwsInputs.js';
export { type ReceivedRequest, WebhookListener } from './WebhookListener.js';
export { type WaitOptions, waitFor } from './waitFor.js';
