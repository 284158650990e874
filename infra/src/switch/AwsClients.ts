import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import type { AwsCall } from './AwsCall.js';

/** One SDK client per service and region, created on first use. CloudFront is global (us-east-1). */
export class AwsClients {
  readonly #clients = new Map<string, unknown>();
  readonly #cloudWatchConfig: CloudWatchClientConfig;
  /** Sees every call the switch sends, before it is sent (the drill records them). */
  readonly onCall: ((call: AwsCall) => void) | undefined;

  /** `cloudWatchConfig` lets tests pick the query protocol, the one moto's CloudWatch speaks. */
  constructor(options: { cloudWatchConfig?: CloudWatchClientConfig; onCall?: (call: AwsCall) => void } = {}) {
    this.#cloudWatchConfig = options.cloudWatchConfig ?? {};
    this.onCall = options.onCall;
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
    return this.#get(`rds:${region}`, () => new RDSClient({ region }));
  }

  efs(region: string): EFSClient {
    return this.#get(`efs:${region}`, () => new EFSClient({ region }));
  }

  ecs(region: string): ECSClient {
    return this.#get(`ecs:${region}`, () => new ECSClient({ region }));
  }

  elbv2(region: string): ElasticLoadBalancingV2Client {
    return this.#get(`elbv2:${region}`, () => new ElasticLoadBalancingV2Client({ region }));
  }

  cloudwatch(region: string): CloudWatchClient {
    return this.#get(`cloudwatch:${region}`, () => new CloudWatchClient({ ...this.#cloudWatchConfig, region }));
  }

  cloudfront(): CloudFrontClient {
    return this.#get('cloudfront', () => new CloudFrontClient({ region: 'us-east-1' }));
  }

  destroy(): void {
    for (const client of this.#clients.values()) (client as { destroy(): void }).destroy();
    this.#clients.clear();
  }
}
