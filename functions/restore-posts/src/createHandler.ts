import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  BackupSigner,
  BackupStore,
  CONTENT_LOG,
  GhostSiteConnector,
  type LambdaContext,
  RestoreLease,
  RunMetrics,
  timeBudget,
} from '@ghost-ha/content';
import { createLogger, type Logger, SecretsLoader, summarizeError } from '@ghost-ha/core';
import type { RestorePostsConfig } from './config.js';
import { RestorePosts, type RestorePostsResult } from './RestorePosts.js';
import { parseRestoreRequest } from './RestoreRequest.js';

export interface HandlerDependencies {
  logger?: Logger;
  s3?: S3Client;
  secretsManager?: SecretsManagerClient;
  /** Where the run's EMF lines go; default stdout. */
  writeMetrics?: (line: string) => void;
}

export type RestorePostsHandler = (event: unknown, context: LambdaContext) => Promise<RestorePostsResult>;

/** Builds the Lambda handler; clients and the secret cache are reused by warm invocations. */
export function createHandler(config: RestorePostsConfig, dependencies: HandlerDependencies = {}): RestorePostsHandler {
  const logger = (dependencies.logger ?? createLogger({ service: 'restore-posts', level: config.logLevel })).child({
    module: 'handler',
  });
  const s3 = dependencies.s3 ?? new S3Client({ forcePathStyle: config.s3ForcePathStyle });
  const secrets = new SecretsLoader({ client: dependencies.secretsManager ?? new SecretsManagerClient({}) });
  const restorePosts = new RestorePosts({
    connector: new GhostSiteConnector({ secrets, secretId: config.ghostSecretId }),
    backups: new BackupStore({
      s3,
      bucket: config.backupBucket,
      prefix: config.backupPrefix,
      signer: new BackupSigner({ secrets, secretId: config.backupSigningSecretId }),
      maxBytes: config.backupMaxBytes,
    }),
    lease: new RestoreLease({ s3 }),
    logger,
  });

  const metrics = new RunMetrics({
    functionName: 'restore-posts',
    namespace: config.metricsNamespace,
    ...(dependencies.writeMetrics ? { write: dependencies.writeMetrics } : {}),
  });

  return async (event, context) => {
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    try {
      const request = parseRestoreRequest(event, config.backupBucket);
      logger.info(
        {
          dryRun: request.dryRun,
          backup: request.backup,
          ...(request.backupFromSite ? { backupFromSite: request.backupFromSite } : {}),
          ...(request.acceptUnsignedBackup ? { acceptUnsignedBackup: true } : {}),
        },
        CONTENT_LOG.invoked,
      );
      const outOfTime = request.dryRun
        ? () => false
        : timeBudget(context, config.timeMarginMs, { consequence: 'Nothing was restored.' });
      const holder = `invocation ${context.awsRequestId ?? 'without a request id'}`;
      const result = await restorePosts.run(request, outOfTime, holder);
      await metrics.record(result.dryRun ? 'dry_run' : result.done ? 'completed' : 'continued', seconds(), {
        ...(result.dryRun ? {} : { restored: result.restored, skipped: result.skipped, failed: result.failed }),
      });
      return result;
    } catch (error) {
      logger.error({ error: summarizeError(error) }, CONTENT_LOG.restoreFailed);
      await metrics.record('failed', seconds(), {});
      throw error;
    }
  };
}
