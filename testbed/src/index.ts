export { type ApiOperation, awsErrorCodes } from './awsErrorCodes.js';
export {
  CloudFrontFunction,
  type FunctionRequest,
  type FunctionResponse,
} from './CloudFrontFunction.js';
export {
  type AlarmEvaluation,
  type EmfDocument,
  evaluateAlarm,
  parseEmfLines,
  type ResolvedAlarm,
  resolveAlarm,
} from './CloudWatchAlarmModel.js';
export { ContainerHealthCheck, type HealthStatus } from './ContainerHealthCheck.js';
export { createDistribution, invalidationsIn, motoCloudFront, type RecordedInvalidation } from './cloudFrontInMoto.js';
export {
  type DescribedTask,
  ECS_API_STATUS_DELAY_MS,
  EcsApiEndpoint,
  type EcsApiEndpointOptions,
} from './EcsApiEndpoint.js';
export { EcsServiceModel, type EcsServiceModelOptions, type ServiceEvent } from './EcsServiceModel.js';
export {
  type ContainerState,
  type ContainerStatus,
  ECS_REACTION_MS,
  EcsTaskModel,
  type EcsTaskModelOptions,
  ESSENTIAL_EXITED,
  MODEL_CLUSTER_ARN,
  type TaskStatus,
} from './EcsTaskModel.js';
export { FrontDoor, type FrontDoorOptions } from './FrontDoor.js';
export { freePort } from './freePort.js';
export {
  GhostProcessSampler,
  type GhostProcessSamplerOptions,
  type GhostSample,
  type WatchedProcess,
} from './GhostProcessSampler.js';
export { type GhostLaunch, type GhostLayout, GhostServer, type GhostServerOptions, OWNER } from './GhostServer.js';
export { type HealthSidecarTarget, healthSidecarEnv } from './healthSidecarEnv.js';
export { type HealthSidecarProcessOptions, healthSidecarProcess } from './healthSidecarProcess.js';
export { httpStatus } from './httpStatus.js';
export {
  type EdgeHeaders,
  InlineLambdaFunction,
  type OriginResponseEvent,
  type OriginResponseResult,
} from './InlineLambdaFunction.js';
export { LocalGhost, type LocalGhostOptions } from './LocalGhost.js';
export { LocalStack, type LocalStackOptions } from './LocalStack.js';
export { LocalUpgradeSite, type LocalUpgradeSiteOptions } from './LocalUpgradeSite.js';
export { type DiscoveryName, loadDiscoveryNames } from './loadDiscoveryNames.js';
export {
  EDGE_TEST_DISTRIBUTION_ID,
  EDGE_TEST_PARAMETERS,
  type EdgeBehavior,
  type EdgeCachePolicy,
  type EdgeOrigin,
  type EdgeOriginRequestPolicy,
  type EdgeSettings,
  type EdgeSettingsSource,
  loadEdgeSettings,
} from './loadEdgeSettings.js';
export {
  type ContainerContext,
  type ImageResolver,
  type LocalImage,
  type LocalLaunch,
  localImages,
} from './localImages.js';
export { ManagedProcess, type ManagedProcessOptions } from './ManagedProcess.js';
export { type DatabaseSettings, MariaDbServer, type MariaDbServerOptions } from './MariaDbServer.js';
export { MirrorBucketPolicy, type S3RequestContext } from './MirrorBucketPolicy.js';
export { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, type MotoServerOptions } from './MotoServer.js';
export {
  type HttpOriginMember,
  OriginGroupEmulator,
  type OriginGroupEmulatorOptions,
  type OriginRequestRecord,
  type RoutedRequest,
  type S3OriginMember,
} from './OriginGroupEmulator.js';
export { majorOf, PINNED_VERSIONS, type PinnedVersions } from './pinnedVersions.js';
export {
  loadServiceDefinition,
  matchesStatus,
  type ServiceDefinition,
  type TargetHealthCheck,
} from './ServiceDefinition.js';
export { ServiceDiscoveryName, type ServiceDiscoveryNameOptions } from './ServiceDiscoveryName.js';
export { type ExitRequest, type StopOnExitRequestOptions, stopOnExitRequest } from './stopOnExitRequest.js';
export { TargetHealth, type TargetState } from './TargetHealth.js';
export {
  type ContainerDefinition,
  DEFAULT_STOP_TIMEOUT_SECONDS,
  type DependencyCondition,
  type HealthCheckDefinition,
  loadTaskDefinition,
  type TaskDefinition,
  type TaskDefinitionSource,
} from './TaskDefinition.js';
export { type TemplateEvaluatorOptions, templateEvaluator } from './templateEvaluator.js';
export { makeTemporaryDirectory, removeTemporaryDirectories } from './temporaryDirectories.js';
export { chromiumBinary, ghostInstallDir, ghostNodeBinary, ghostVersion, pythonToolsBin, REPO_ROOT } from './tools.js';
export { type ApiInput, validateAwsInputs } from './validateAwsInputs.js';
export { type ReceivedRequest, WebhookListener } from './WebhookListener.js';
export { type WaitOptions, waitFor } from './waitFor.js';
