import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLogger, EmfPublisher, type MainContext, runMain, SecretsLoader, summarizeError } from '@ghost-ha/core';
import { CacheInvalidator } from './CacheInvalidator.js';
import { loadConfig } from './config.js';
import { createCloudFrontClient } from './createCloudFrontClient.js';
import { GhostWebhookSecretKeeper } from './GhostWebhookSecretKeeper.js';
import { createMirrorS3Client } from './mirror/startMirror.js';
import { RegisteredWebhooks } from './RegisteredWebhooks.js';
import { registerGhostWebhooks } from './registerGhostWebhooks.js';
import { readWebhookSecretVersions, resolveSecrets } from './resolveSecrets.js';
import { INVALIDATOR_LOG, INVALIDATOR_SIGNALS } from './signals.js';

const logger = createLogger({ service: 'cache-invalidator', level: process.env.LOG_LEVEL ?? 'info' });
const log = logger.child({ module: 'main' });
const REGISTRATION_ATTEMPTS = 18;
/** Beyond SHUTDOWN_GRACE_MS, for the mirror's page in flight and closing the journal. */
const STOP_MARGIN_MS = 15_000;

async function main({ onStop, onExit }: MainContext): Promise<undefined> {
  const config = loadConfig(process.env);
  let secrets: SecretsLoader | undefined;
  const loader = () => {
    secrets ??= new SecretsLoader({ client: new SecretsManagerClient({}) });
    return secrets;
  };
  const resolved = await resolveSecrets(config, loader);
  const webhookSecretId = config.webhookSecretId;
  const registered = new RegisteredWebhooks(config.journalDir);
  let adminApiKey: Promise<string | undefined> | undefined;
  const adminKey = () => {
    adminApiKey ??= Promise.resolve(config.registerWebhooksOnStart ? resolved.ghostAdminApiKey : undefined);
    return adminApiKey;
  };
  // A rotation seen: Ghost's webhooks get the new secret while the previous one is still accepted,
  // are set again after the deliveries then in flight, and whenever Ghost puts the previous one back.
  const keeper = new GhostWebhookSecretKeeper({
    ghostUrl: config.ghostAdminUrl,
    adminApiKey: adminKey,
    ids: () => registered.load(),
    overlapMs: config.webhookSecretOverlapMs,
    now: Date.now,
    logger,
  });
  const service = await CacheInvalidator.start(resolved, {
    logger,
    ...(webhookSecretId
      ? {
          readWebhookSecret: () => readWebhookSecretVersions(loader(), webhookSecretId),
          onWebhookSecretRotated: (secret: string) => keeper.rotated(secret),
          onPreviousSecretDelivery: (event: string, signedAtMs: number) => keeper.signedWithPrevious(event, signedAtMs),
        }
      : {}),
    cloudFront: createCloudFrontClient(process.env),
    ...(config.mirror ? { s3: createMirrorS3Client(config.mirror, process.env) } : {}),
  });
  if (config.metricsNamespace) {
    const emf = new EmfPublisher({
      ...INVALIDATOR_SIGNALS,
      registry: service.registry,
      namespace: config.metricsNamespace,
      write: (line) => process.stdout.write(`${line}\n`),
    });
    emf.start(config.metricsIntervalMs);
    // Flushers run after the stop, so the last EMF publish carries the final counts.
    onExit(() => emf.stop());
  }
  onStop(
    async () => {
      keeper.stop();
      await service.stop();
    },
    { timeoutMs: config.shutdownGraceMs + STOP_MARGIN_MS },
  );

  if (config.registerWebhooksOnStart && config.publicUrl) {
    const key = await adminKey();
    const publicUrl = config.publicUrl;
    if (key) {
      // The secret in force when each attempt runs; the ids are kept for the next rotation.
      void registerWithRetries(async () => {
        const result = await registerGhostWebhooks({
          ghostUrl: config.ghostAdminUrl,
          adminApiKey: key,
          targetBaseUrl: publicUrl,
          secret: service.webhookSecret,
          logger,
        });
        await registered.add(result.ids);
      });
    }
  }
  return undefined;
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

void runMain({ name: 'cache-invalidator', logger, main });
