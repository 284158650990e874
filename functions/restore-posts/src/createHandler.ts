import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BackupStore, GhostSiteConnector, type LambdaContext, RestoreLease, timeBudget } from '@ghost-ha/content';
import { createLogger, type Logger, SecretsLoader, summarizeError } from '@ghost-ha/core';
import type { RestorePostsConfig } from './config.js';
import { RestorePosts, type RestorePostsResult } from './RestorePosts.js';
import { parseRestoreRequest } from './RestoreRequest.js';

export interface HandlerDependencies {
  logger?: Logger;
  s3?: S3Client;
  secretsManager?: SecretsManagerClient;
}

export type RestorePostsHandler = (event: unknown, context: LambdaContext) => Promise<RestorePostsResult>;

/** Builds the Lambda handler; clients and the secret cache are reused by warm invocations. */
export function createHandler(config: RestorePostsConfig, dependencies: HandlerDependencies = {}): RestorePostsHandler {
  const logger = (dependencies.logger ?? createLogger({ service: 'restore-posts', level: config.logLevel })).child({
    module: 'handler',
  });
  const s3 = dependencies.s3 ?? new S3Client({ forcePathStyle: config.s3ForcePathStyle });
  const restorePosts = new RestorePosts({
    connector: new GhostSiteConnector({
      secrets: new SecretsLoader({ client: dependencies.secretsManager ?? new SecretsManagerClient({}) }),
      secretId: config.ghostSecretId,
    }),
    backups: new BackupStore({
      s3,
      bucket: config.backupBucket,
      prefix: '',
    }),
    lease: new RestoreLease({ s3 }),
    logger,
  });

  return async (event, context) => {
    try {
      const request = parseRestoreRequest(event, config.backupBucket);
      logger.info({ dryRun: request.dryRun, backup: request.backup }, 'invoked');
      const outOfTime = request.dryRun
        ? () => false
        : timeBudget(context, config.timeMarginMs, { consequence: 'Nothing was restored.' });
      const holder = `invocation ${context.awsRequestId ?? 'without a request id'}`;
      return await restorePosts.run(request, outOfTime, holder);
    } catch (error) {
      logger.error({ error: summarizeError(error) }, 'restore failed');
      throw error;
    }
  };
}
