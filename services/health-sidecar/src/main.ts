import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, createLogger, SecretsLoader, summarizeError } from '@ghost-ha/core';
import { loadConfig, type SidecarConfig } from './config.js';
import { Sidecar } from './Sidecar.js';

function readConfig(): SidecarConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`health-sidecar: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const config = readConfig();
const logger = createLogger({ service: 'health-sidecar', level: config.logLevel });
const secrets = config.database.passwordSecretId
  ? new SecretsLoader({ client: new SecretsManagerClient({}) })
  : undefined;

try {
  const sidecar = await Sidecar.start(config, { logger, secrets, exit: (code) => process.exit(code) });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void sidecar.shutdown(signal));
  }
} catch (error) {
  const summary = summarizeError(error);
  logger.fatal({ err: summary }, 'start-up failed');
  process.stderr.write(`health-sidecar: start-up failed: ${summary.message}\n`);
  process.exit(1);
}
