export { freePort } from './freePort.js';
export { GhostServer, OWNER, type GhostServerOptions } from './GhostServer.js';
export { ManagedProcess, type ManagedProcessOptions } from './ManagedProcess.js';
export { MariaDbServer, type DatabaseSettings } from './MariaDbServer.js';
export { MOTO_CREDENTIALS, MOTO_REGION, MotoServer } from './MotoServer.js';
export { ghostInstallDir, ghostVersion, nodeBinaryFor, pythonToolsBin, REPO_ROOT } from './tools.js';
export { waitFor, type WaitOptions } from './waitFor.js';
export { WebhookListener, type ReceivedRequest } from './WebhookListener.js';
