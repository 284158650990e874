import { BackupClient } from '@aws-sdk/client-backup';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCall } from './AwsCall.js';

export interface AwsClientsOptions {
  /** Lets tests pick the query protocol, the one moto's CloudWatch speaks. */
  readonly cloudWatchConfig?: CloudWatchClientConfig;
  /** Sees every call the switch sends, before it is sent (the drill records them). */
  readonly onCall?: (call: AwsCall) => void;
  /**
   * Bounds one request (default 30 s; connecting 5 s). A region in an outage may not refuse but
   * hang: without a bound a best-effort step towards it would never give up.
   */
  readonly requestTimeoutMs?: number;
  /** Path-style S3 addressing, for a stand-in on one host (AWS itself takes the bucket's host name). */
  readonly s3ForcePathStyle?: boolean;
}

/** One SDK client per service and region, created on first use. CloudFront is global (us-east-1). */
export class AwsClients {
  readonly #clients = new Map<string, unknown>();
  readonly #cloudWatchConfig: CloudWatchClientConfig;
  readonly #requestHandler: { requestTimeout: number; connectionTimeout: number; throwOnRequestTimeout: true };
  readonly onCall: ((call: AwsCall) => void) | undefined;
  readonly #s3ForcePathStyle: boolean;

  constructor(options: AwsClientsOptions = {}) {
    this.#cloudWatchConfig = options.cloudWatchConfig ?? {};
    this.onCall = options.onCall;
    this.#s3ForcePathStyle = options.s3ForcePathStyle ?? false;
    const requestTimeout = options.requestTimeoutMs ?? 30_000;
    // throwOnRequestTimeout: without it the handler only logs a warning and keeps waiting.
    this.#requestHandler = {
      requestTimeout,
      connectionTimeout: Math.min(5_000, requestTimeout),
      throwOnRequestTimeout: true,
    };
  }

  #get<T>(key: string, create: () => T): T {
    let client = this.#clients.get(key) as T | undefined;
    if (!client) {
      client = create();
      this.#clients.set(key, client);
    }
    return client;
  }

  rds(region: string): RDSClient {
    return this.#get(`rds:${region}`, () => new RDSClient({ region, requestHandler: this.#requestHandler }));
  }

  backup(region: string): BackupClient {
    return this.#get(`backup:${region}`, () => new BackupClient({ region, requestHandler: this.#requestHandler }));
  }

  efs(region: string): EFSClient {
    return this.#get(`efs:${region}`, () => new EFSClient({ region, requestHandler: this.#requestHandler }));
  }

  ecs(region: string): ECSClient {
    return this.#get(`ecs:${region}`, () => new ECSClient({ region, requestHandler: this.#requestHandler }));
  }

  ecr(region: string): ECRClient {
    return this.#get(`ecr:${region}`, () => new ECRClient({ region, requestHandler: this.#requestHandler }));
  }

  elbv2(region: string): ElasticLoadBalancingV2Client {
    return this.#get(
      `elbv2:${region}`,
      () => new ElasticLoadBalancingV2Client({ region, requestHandler: this.#requestHandler }),
    );
  }

  cloudwatch(region: string): CloudWatchClient {
    return this.#get(
      `cloudwatch:${region}`,
      () => new CloudWatchClient({ ...this.#cloudWatchConfig, region, requestHandler: this.#requestHandler }),
    );
  }

  s3(region: string): S3Client {
    return this.#get(
      `s3:${region}`,
      () => new S3Client({ region, forcePathStyle: this.#s3ForcePathStyle, requestHandler: this.#requestHandler }),
    );
  }

  rdsData(region: string): RDSDataClient {
    return this.#get(`rds-data:${region}`, () => new RDSDataClient({ region, requestHandler: this.#requestHandler }));
  }

  secretsManager(region: string): SecretsManagerClient {
    return this.#get(
      `secretsmanager:${region}`,
      () => new SecretsManagerClient({ region, requestHandler: this.#requestHandler }),
    );
  }

  cloudfront(): CloudFrontClient {
    return this.#get(
      'cloudfront',
      () => new CloudFrontClient({ region: 'us-east-1', requestHandler: this.#requestHandler }),
    );
  }

  destroy(): void {
    for (const client of this.#clients.values()) (client as { destroy(): void }).destroy();
    this.#clients.clear();
  }
}
