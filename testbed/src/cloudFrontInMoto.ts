import {
  CloudFrontClient,
  CreateDistributionCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
} from '@aws-sdk/client-cloudfront';
import type { MotoServer } from './MotoServer.js';

export interface RecordedInvalidation {
  id: string;
  callerReference: string;
  paths: string[];
}

/** A CloudFront client on moto, for arranging and for reading what the service created. */
export function motoCloudFront(moto: MotoServer): CloudFrontClient {
  const env = moto.awsEnv();
  return new CloudFrontClient({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' },
  });
}

/** Creates a distribution in moto (origin `domainName`, default a placeholder) and returns its id. */
export async function createDistribution(
  client: CloudFrontClient,
  name: string,
  origin: { domainName: string; httpPort?: number } = { domainName: 'origin.example.com' },
): Promise<string> {
  const created = await client.send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: `${name}-${Date.now()}-${Math.random()}`,
        Comment: name,
        Enabled: true,
        Origins: {
          Quantity: 1,
          Items: [
            {
              Id: 'ghost',
              DomainName: origin.domainName,
              CustomOriginConfig: {
                HTTPPort: origin.httpPort ?? 80,
                HTTPSPort: 443,
                OriginProtocolPolicy: 'https-only',
              },
            },
          ],
        },
        DefaultCacheBehavior: {
          TargetOriginId: 'ghost',
          ViewerProtocolPolicy: 'redirect-to-https',
          CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
        },
      },
    }),
  );
  const id = created.Distribution?.Id;
  if (!id) throw new Error('moto created a distribution without an id');
  return id;
}

/** Every invalidation moto holds for the distribution, with its paths sorted. */
export async function invalidationsIn(
  client: CloudFrontClient,
  distributionId: string,
): Promise<RecordedInvalidation[]> {
  const list = await client.send(new ListInvalidationsCommand({ DistributionId: distributionId }));
  const recorded: RecordedInvalidation[] = [];
  for (const item of list.InvalidationList?.Items ?? []) {
    const detail = await client.send(new GetInvalidationCommand({ DistributionId: distributionId, Id: item.Id }));
    const batch = detail.Invalidation?.InvalidationBatch;
    recorded.push({
      id: item.Id ?? '',
      callerReference: batch?.CallerReference ?? '',
      paths: [...(batch?.Paths?.Items ?? [])].sort(),
    });
  }
  return recorded;
}
