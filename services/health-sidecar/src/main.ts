import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, createLogger, EmfPublisher, SecretsLoader, summarizeError } from '@ghost-ha/core';
import { loadConfig, type SidecarConfig } from './config.js';
import { Sidecar } from './Sidecar.js';
import { SIDECAR_SIGNALS } from './signals.js';

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

let emf: EmfPublisher | undefined;
/** Every exit (shutdown, fencing) writes the last metrics first, within a bound: the exit must not wait on them. */
const exit = (code: number) => {
  const flushed = emf?.stop() ?? Promise.resolve();
  const bound = new Promise((resolve) => setTimeout(resolve, 500).unref());
  void Promise.race([flushed, bound]).finally(() => process.exit(code));
};

try {
  const sidecar = await Sidecar.start(config, { logger, secrets, exit });
  if (config.metrics.namespace) {
    emf = new EmfPublisher({
      ...SIDECAR_SIGNALS,
      registry: sidecar.metrics.registry,
      namespace: config.metrics.namespace,
      write: (line) => process.stdout.write(`${line}\n`),
    });
    emf.start(config.metrics.intervalMs);
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void sidecar.shutdown(signal));
  }
} catch (error) {
  const summary = summarizeError(error);
  logger.fatal({ error: summary }, 'start-up failed');
  process.stderr.write(`health-sidecar: start-up failed: ${summary.message}\n`);
  process.exit(1);
}
