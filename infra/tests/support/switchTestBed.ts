import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { MotoServer } from '@ghost-ha/testbed';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { AwsCall } from '../../src/switch/AwsCall.js';
import { AwsClients, type AwsClientsOptions } from '../../src/switch/AwsClients.js';
import {
  createDeployment,
  type DeploymentInMoto,
  type DeploymentOptions,
  PRIMARY,
  SECONDARY,
} from './deploymentInMoto.js';

export interface SwitchTestBedOptions {
  /** moto extended (testbed/moto) with Aurora global switchover and failover, EFS replication and outages. */
  readonly extended?: boolean;
  /** The deployment created before each test. */
  readonly deployment?: DeploymentOptions;
}

/** What a switch test works with; made afresh before each test. */
export interface SwitchTestBed {
  readonly moto: MotoServer;
  readonly deployment: DeploymentInMoto;
  readonly clients: AwsClients;
  /** Every call the switch sent through `clients` in this test, in order. */
  readonly sent: readonly AwsCall[];
  /** The switch's arguments naming this deployment: both regions and the distribution. */
  deploymentArgs(): string[];
  /** New clients for the rest of the test (the current ones are destroyed), e.g. with a request timeout. */
  replaceClients(options: AwsClientsOptions): void;
  /** Empties moto and creates the deployment again, with other options. */
  recreateDeployment(options: DeploymentOptions): Promise<void>;
}

/**
 * Registers the hooks of a switch test (call it inside `describe`): moto started once and used by
 * this process's SDK clients; before each test moto emptied, the deployment created, and switch
 * clients made for moto (CloudWatch on the query protocol, the one moto speaks) that record every call.
 */
export function useSwitchTestBed(options: SwitchTestBedOptions = {}): SwitchTestBed {
  let moto: MotoServer | undefined;
  let restoreEnv: (() => void) | undefined;
  let deployment: DeploymentInMoto | undefined;
  let clients: AwsClients | undefined;
  let sent: AwsCall[] = [];
  const makeClients = (extra: AwsClientsOptions = {}) =>
    new AwsClients({
      cloudWatchConfig: { protocol: AwsQueryProtocol },
      s3ForcePathStyle: true,
      onCall: (call) => sent.push(call),
      ...extra,
    });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`The switch test bed has no ${what} outside a test`);
    return value;
  };

  beforeAll(async () => {
    moto = await MotoServer.start({ extended: options.extended ?? false });
    restoreEnv = moto.useInThisProcess();
  });

  afterAll(async () => {
    restoreEnv?.();
    await moto?.destroy();
  });

  beforeEach(async () => {
    await ready(moto, 'moto').reset();
    deployment = await createDeployment(options.deployment);
    sent = [];
    clients = makeClients();
    return () => clients?.destroy();
  });

  return {
    get moto() {
      return ready(moto, 'moto');
    },
    get deployment() {
      return ready(deployment, 'deployment');
    },
    get clients() {
      return ready(clients, 'clients');
    },
    get sent() {
      return sent;
    },
    deploymentArgs() {
      const { distributionId } = ready(deployment, 'deployment');
      return ['--primary-region', PRIMARY, '--secondary-region', SECONDARY, '--distribution-id', distributionId];
    },
    replaceClients(extra) {
      clients?.destroy();
      clients = makeClients(extra);
    },
    async recreateDeployment(deploymentOptions) {
      await ready(moto, 'moto').reset();
      deployment = await createDeployment(deploymentOptions);
    },
  };
}
