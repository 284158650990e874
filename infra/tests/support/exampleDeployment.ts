import type { Deployment, RegionSite } from '../../src/switch/Deployment.js';
import { regionalAlarmNames, siteNames } from '../../src/switch/Deployment.js';

/** The account of the plans' examples. */
export const EXAMPLE_ACCOUNT = '123456789012';

const site = (region: string, cluster: string, fileSystemId: string): RegionSite => ({
  region,
  clusterArn: `arn:aws:rds:${region}:${EXAMPLE_ACCOUNT}:cluster:${cluster}`,
  fileSystemId,
  ...siteNames('ghost-ha', region),
});

/** A deployment as discovery would describe it, for plans built without AWS (plan and role tests). */
export const EXAMPLE_DEPLOYMENT: Deployment = {
  project: 'ghost-ha',
  globalClusterId: 'ghost-ha-global',
  distributionId: 'E2ABCDEF123456',
  primary: site('eu-west-1', 'ghost-ha-data-primary-auroracluster-1a2b3c4d5e6f', 'fs-0a1b2c3d4e5f60718'),
  secondary: site('eu-central-1', 'ghost-ha-data-secondary-auroracluster-6f5e4d3c2b1a', 'fs-0f1e2d3c4b5a69788'),
  regionalAlarmNames: regionalAlarmNames('ghost-ha'),
};
