import { ECRClient } from '@aws-sdk/client-ecr';
import { RDSClient } from '@aws-sdk/client-rds';
import { summarizeError } from '@ghost-ha/core';
import { DeployReadError } from './DeployReadError.js';
import { imagesInRegion } from './imagesInRegion.js';
import { readWriterRegion } from './writerRegion.js';

export interface DeployCheckIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Clients per region; real ones (the SDK's default credentials and endpoint) unless given. */
  readonly rds?: (region: string) => RDSClient;
  readonly ecr?: (region: string) => ECRClient;
}

export const DEPLOY_CHECK_USAGE = `Usage: node infra/src/deploy/main.ts COMMAND ...
  active-role --global-cluster ID --primary-region R --secondary-region R
      prints where the Aurora global database writes: primary, secondary, or none (no global
      database yet); fails while it names no writer (a switchover or failover is under way)
  check-images --region R IMAGE...
      fails unless every IMAGE is pinned by digest in R's own ECR registry and found there`;

/** The reads scripts/deploy.sh makes with the SDK. Exit codes: 0 done, 1 the check failed, 2 usage. */
export async function runDeployCheck(argv: readonly string[], io: DeployCheckIo): Promise<number> {
  const [command, ...rest] = argv;
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] ?? '';
    if (word.startsWith('--')) {
      const value = rest[i + 1];
      if (value === undefined) {
        io.err(`${word} needs a value.\n${DEPLOY_CHECK_USAGE}\n`);
        return 2;
      }
      options.set(word.slice(2), value);
      i++;
    } else positional.push(word);
  }
  const clients = new Map<string, { destroy(): void }>();
  const cached = <T extends { destroy(): void }>(key: string, create: () => T): T => {
    const found = clients.get(key) as T | undefined;
    if (found) return found;
    const client = create();
    clients.set(key, client);
    return client;
  };
  const rds = io.rds ?? ((region: string) => cached(`rds:${region}`, () => new RDSClient({ region })));
  const ecr = io.ecr ?? ((region: string) => cached(`ecr:${region}`, () => new ECRClient({ region })));
  try {
    if (command === 'active-role') {
      const globalCluster = options.get('global-cluster');
      const primary = options.get('primary-region');
      const secondary = options.get('secondary-region');
      if (!globalCluster || !primary || !secondary) {
        io.err(`active-role needs --global-cluster, --primary-region and --secondary-region.\n${DEPLOY_CHECK_USAGE}\n`);
        return 2;
      }
      // The secondary first: in a disaster it is the region that answers.
      const reading = await readWriterRegion(rds, globalCluster, [secondary, primary]);
      if (reading.kind === 'absent') {
        io.out('none\n');
        return 0;
      }
      if (reading.kind === 'no-writer') {
        io.err(
          `The global database '${globalCluster}' names no writer (status ${reading.status}): a switchover or failover is under way. ` +
            'Wait for it to finish (scripts/failover.sh or failback.sh reports it), then deploy again.\n',
        );
        return 1;
      }
      if (reading.region !== primary && reading.region !== secondary) {
        io.err(
          `The global database '${globalCluster}' writes in ${reading.region} (${reading.clusterArn}), neither PRIMARY_REGION ${primary} nor SECONDARY_REGION ${secondary}: check the settings.\n`,
        );
        return 1;
      }
      io.out(`${reading.region === primary ? 'primary' : 'secondary'}\n`);
      return 0;
    }
    if (command === 'check-images') {
      const region = options.get('region');
      if (!region || positional.length === 0) {
        io.err(`check-images needs --region and at least one image.\n${DEPLOY_CHECK_USAGE}\n`);
        return 2;
      }
      const problems = await imagesInRegion(ecr(region), region, positional);
      for (const { image, problem } of problems) io.err(`${image}: ${problem}\n`);
      if (problems.length > 0) {
        io.err(
          `${region}'s task could not start from its own registry. Push the images there (scripts/package.sh --registry <account>.dkr.ecr.${region}.amazonaws.com ...) ` +
            `or wait for the registry stack's replication into ${region}, then deploy again.\n`,
        );
        return 1;
      }
      io.out(`${positional.length} image(s) found in ${region}'s registry\n`);
      return 0;
    }
    io.err(`Unknown command '${command ?? ''}'.\n${DEPLOY_CHECK_USAGE}\n`);
    return 2;
  } catch (error) {
    io.err(`${error instanceof DeployReadError ? error.message : summarizeError(error).message}\n`);
    return 1;
  } finally {
    for (const client of clients.values()) client.destroy();
  }
}
