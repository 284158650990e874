import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLogger, EmfPublisher, runMain, SecretsLoader } from '@ghost-ha/core';
import { loadConfig } from './config.js';
import { Sidecar } from './Sidecar.js';
import { SIDECAR_SIGNALS } from './signals.js';

void runMain({
  name: 'health-sidecar',
  main: async ({ exit, onStop, onExit, useLogger }) => {
    const config = loadConfig(process.env);
    const logger = createLogger({ service: 'health-sidecar', level: config.logLevel });
    useLogger(logger);
    const secrets = config.database.passwordSecretId
      ? new SecretsLoader({ client: new SecretsManagerClient({}) })
      : undefined;
    // Shutdown and fencing end the process through runMain's exit, so the last metrics go out first.
    const sidecar = await Sidecar.start(config, { logger, secrets, exit });
    // The sidecar bounds its own shutdown just inside the stop timeout; this is the backstop.
    onStop((signal) => sidecar.shutdown(signal), { timeoutMs: config.shutdown.stopTimeoutMs });
    if (config.metrics.namespace) {
      const emf = new EmfPublisher({
        ...SIDECAR_SIGNALS,
        registry: sidecar.metrics.registry,
        namespace: config.metrics.namespace,
        write: (line) => process.stdout.write(`${line}\n`),
      });
      emf.start(config.metrics.intervalMs);
      onExit(() => emf.stop());
    }
    return undefined;
  },
});
