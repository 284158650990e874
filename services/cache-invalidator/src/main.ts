import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, createLogger, EmfPublisher, SecretsLoader, summarizeError } from '@ghost-ha/core';
import { CacheInvalidator } from './CacheInvalidator.js';
import { loadConfig } from './config.js';
import { createCloudFrontClient } from './createCloudFrontClient.js';
import { createMirrorS3Client } from './mirror/startMirror.js';
import { registerGhostWebhooks } from './registerGhostWebhooks.js';
import { resolveAdminApiKey, resolveSecrets } from './resolveSecrets.js';
import { INVALIDATOR_LOG, INVALIDATOR_SIGNALS } from './signals.js';

const logger = createLogger({ service: 'cache-invalidator', level: process.env.LOG_LEVEL ?? 'info' });
const log = logger.child({ module: 'main' });
const REGISTRATION_ATTEMPTS = 18;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  let secrets: SecretsLoader | undefined;
  const loader = () => {
    secrets ??= new SecretsLoader({ client: new SecretsManagerClient({}) });
    return secrets;
  };
  const resolved = await resolveSecrets(config, loader);
  const service = await CacheInvalidator.start(resolved, {
    logger,
    cloudFront: createCloudFrontClient(process.env),
    ...(config.mirror ? { s3: createMirrorS3Client(config.mirror, process.env) } : {}),
  });
  const emf = config.metricsNamespace
    ? new EmfPublisher({
        ...INVALIDATOR_SIGNALS,
        registry: service.registry,
        namespace: config.metricsNamespace,
        write: (line) => process.stdout.write(`${line}\n`),
      })
    : undefined;
  emf?.start(config.metricsIntervalMs);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // The last EMF publish comes after the service stopped, so it carries the final counts.
    service
      .stop()
      .then(() => emf?.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ error: summarizeError(error) }, INVALIDATOR_LOG.stopFailed);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (config.registerWebhooksOnStart && config.publicUrl) {
    const adminApiKey = await resolveAdminApiKey(config, loader);
    if (adminApiKey) {
      const request = {
        ghostUrl: config.ghostAdminUrl,
        adminApiKey,
        targetBaseUrl: config.publicUrl,
        secret: resolved.webhookSecret,
        logger,
      };
      void registerWithRetries(() => registerGhostWebhooks(request));
    }
  }
}

/** Ghost may still be booting beside us: retry for a few minutes; failing never stops receiving. */
async function registerWithRetries(register: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; attempt <= REGISTRATION_ATTEMPTS; attempt++) {
    try {
      await register();
      return;
    } catch (error) {
      const last = attempt === REGISTRATION_ATTEMPTS;
      log[last ? 'error' : 'warn']({ error: summarizeError(error), attempt }, INVALIDATOR_LOG.registrationFailed);
      if (!last) await new Promise((resolve) => setTimeout(resolve, 10_000).unref());
    }
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    log.fatal({ problems: error.problems }, error.message);
  } else {
    log.fatal({ error: summarizeError(error) }, INVALIDATOR_LOG.startFailed);
  }
  process.exit(1);
});
