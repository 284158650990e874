import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LambdaContext } from '@ghost-ha/content';
import { BackupSigner, BackupStore, CONTENT_LOG, GhostSiteConnector, RunMetrics, timeBudget } from '@ghost-ha/content';
import { createLogger, type Logger, SecretsLoader, summarizeError } from '@ghost-ha/core';
import { CdnPurger } from './CdnPurger.js';
import type { DeleteAllPostsConfig } from './config.js';
import { DeleteAllPosts, type DeleteAllPostsResult } from './DeleteAllPosts.js';
import { parseDeleteRequest } from './DeleteRequest.js';

export interface HandlerDependencies {
  logger?: Logger;
  s3?: S3Client;
  secretsManager?: SecretsManagerClient;
  cloudfront?: CloudFrontClient;
  /** Where the run's EMF lines go; default stdout. */
  writeMetrics?: (line: string) => void;
}

export type DeleteAllPostsHandler = (event: unknown, context: LambdaContext) => Promise<DeleteAllPostsResult>;

/**
 * Builds the Lambda handler. Clients and the secret cache live as long as the handler, so warm
 * invocations reuse them. Failures are logged (summarised) and rethrown: the invocation fails with
 * the error's name and message, which says whether anything was deleted.
 */
export function createHandler(
  config: DeleteAllPostsConfig,
  dependencies: HandlerDependencies = {},
): DeleteAllPostsHandler {
  const logger = (dependencies.logger ?? createLogger({ service: 'delete-all-posts', level: config.logLevel })).child({
    module: 'handler',
  });
  const s3 = dependencies.s3 ?? new S3Client({ forcePathStyle: config.s3ForcePathStyle });
  const secrets = new SecretsLoader({ client: dependencies.secretsManager ?? new SecretsManagerClient({}) });
  const connector = new GhostSiteConnector({ secrets, secretId: config.ghostSecretId });
  const purger = new CdnPurger({
    distributionId: config.cloudfrontDistributionId,
    ...(config.cloudfrontDistributionId ? { cloudfront: dependencies.cloudfront ?? new CloudFrontClient({}) } : {}),
  });
  const deleteAllPosts = new DeleteAllPosts({
    connector,
    backups: new BackupStore({
      s3,
      bucket: config.backupBucket,
      prefix: config.backupPrefix,
      signer: new BackupSigner({ secrets, secretId: config.backupSigningSecretId }),
      maxBytes: config.backupMaxBytes,
    }),
    purger,
    fallbackConcurrency: config.fallbackConcurrency,
    logger,
  });

  const metrics = new RunMetrics({
    functionName: 'delete-all-posts',
    namespace: config.metricsNamespace,
    ...(dependencies.writeMetrics ? { write: dependencies.writeMetrics } : {}),
  });

  return async (event, context) => {
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    try {
      const request = parseDeleteRequest(event);
      logger.info(
        { dryRun: request.dryRun, filter: request.filter, resources: request.resources },
        CONTENT_LOG.invoked,
      );
      const outOfTime = request.dryRun
        ? () => false
        : timeBudget(context, config.timeMarginMs, { consequence: 'Nothing was backed up or deleted.' });
      const result = await deleteAllPosts.run(request, outOfTime);
      const { sample: _sample, ...summary } = result;
      logger.info(summary, result.dryRun ? CONTENT_LOG.dryRunFinished : CONTENT_LOG.runFinished);
      await metrics.record(result.dryRun ? 'dry_run' : result.done ? 'completed' : 'continued', seconds(), {
        ...(result.dryRun ? {} : { deleted: result.deleted, backed_up: result.backedUp }),
      });
      return result;
    } catch (error) {
      logger.error({ error: summarizeError(error) }, CONTENT_LOG.runFailed);
      await metrics.record('failed', seconds(), {});
      throw error;
    }
  };
}
