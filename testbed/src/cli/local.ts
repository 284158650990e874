// Runs the suite locally on an embedded default: a real Ghost (SQLite), the local AWS stand-in
// (moto) with a CloudFront distribution and the secrets the services read, and every service of
// the suite that exists beside Ghost. Ctrl-C stops and removes everything.
import { CloudFrontClient, CreateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GhostServer, OWNER } from '../GhostServer.js';
import { MotoServer } from '../MotoServer.js';

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

console.log('Starting the local AWS stand-in (moto_server)…');
const moto = await MotoServer.start();
moto.useInThisProcess();
console.log(`Starting Ghost ${process.env.GHOST_VERSION ?? '5.130.6'} on SQLite (first boot migrates the database)…`);
const ghost = await GhostServer.start();
console.log(`Ghost answers after ${elapsed()}`);

const cloudfront = new CloudFrontClient({});
const distribution = await cloudfront.send(
  new CreateDistributionCommand({
    DistributionConfig: {
      CallerReference: `local-${Date.now()}`,
      Comment: 'local stand-in for the site distribution',
      Enabled: true,
      Origins: {
        Quantity: 1,
        Items: [
          {
            Id: 'ghost',
            DomainName: '127.0.0.1',
            CustomOriginConfig: { HTTPPort: ghost.port, HTTPSPort: 443, OriginProtocolPolicy: 'http-only' },
          },
        ],
      },
      DefaultCacheBehavior: {
        TargetOriginId: 'ghost',
        ViewerProtocolPolicy: 'allow-all',
        CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
      },
    },
  }),
);
const secrets = new SecretsManagerClient({});
await secrets.send(
  new CreateSecretCommand({
    Name: 'ghost-ha/local/ghost-admin',
    SecretString: JSON.stringify({ url: ghost.url, adminApiKey: ghost.adminApiKey }),
  }),
);

console.log(`
Ghost HA suite running locally (ready in ${elapsed()}):

  Ghost site       ${ghost.url}/
  Ghost admin      ${ghost.url}/ghost/   sign in as ${OWNER.email} / ${OWNER.password}
  Admin API key    ${ghost.adminApiKey}
  AWS stand-in     ${moto.endpoint}   (AWS_ENDPOINT_URL; moto_server)
  CloudFront       distribution ${distribution.Distribution?.Id}
  Secret           ghost-ha/local/ghost-admin (Ghost url + Admin API key)

What to watch:
  Ghost log        ${ghost.dir}/ghost.log
  Invalidations    AWS_ENDPOINT_URL=${moto.endpoint} aws cloudfront list-invalidations --distribution-id ${distribution.Distribution?.Id}

Data lives in ${ghost.dir} and is removed on exit. Press Ctrl-C to stop.`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  await ghost.destroy();
  await moto.destroy();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
