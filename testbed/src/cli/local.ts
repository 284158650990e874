// Runs the suite locally on an embedded default: a real Ghost, on its own MariaDB (the sidecar's
// database and lock checks speak MySQL, as in AWS where Ghost runs on Aurora MySQL) or with
// `--sqlite` on SQLite without the sidecar; the local AWS stand-in (moto) with a CloudFront
// distribution and the secrets the services read; health-sidecar and cache-invalidator beside
// Ghost. Ctrl-C, SIGTERM, SIGHUP or the end of the parent process stops and removes everything, also
// while it is still starting.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createDistribution, motoCloudFront } from '../cloudFrontInMoto.js';
import { freePort } from '../freePort.js';
import { GhostServer, OWNER } from '../GhostServer.js';
import { ManagedProcess } from '../ManagedProcess.js';
import { MariaDbServer } from '../MariaDbServer.js';
import { MotoServer } from '../MotoServer.js';
import { stopOnExitRequest } from '../stopOnExitRequest.js';
import { ghostVersion, REPO_ROOT } from '../tools.js';
import { waitFor } from '../waitFor.js';

const useSqlite = process.argv.includes('--sqlite');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const workDir = await mkdtemp(join(tmpdir(), 'ghost-ha-local-'));
const services: ManagedProcess[] = [];
// What to undo on the way out, last started first; filled as the parts come up.
const teardown: (() => Promise<void>)[] = [() => rm(workDir, { recursive: true, force: true })];
stopOnExitRequest(async (request) => {
  console.log(`\nStopping (${request})…`);
  await Promise.all(services.map((service) => service.stop(10_000)));
  for (const step of teardown.reverse()) await step();
});

console.log('Starting the local AWS stand-in (moto_server)…');
const moto = await MotoServer.start();
teardown.push(() => moto.destroy());
moto.useInThisProcess();
let mariadb: MariaDbServer | undefined;
if (!useSqlite) {
  console.log('Starting MariaDB (own data directory and port)…');
  mariadb = await MariaDbServer.start();
  const server = mariadb;
  teardown.push(() => server.destroy());
}
const database = mariadb ? await mariadb.database('ghost_local') : undefined;
console.log(
  `Starting Ghost ${ghostVersion()} on ${database ? 'MariaDB (production mode)' : 'SQLite (development mode)'}…`,
);
const ghost = await GhostServer.start(database ? { database } : {});
teardown.push(() => ghost.destroy());
console.log(`Ghost answers after ${elapsed()}`);

const distributionId = await createDistribution(motoCloudFront(moto), 'local stand-in for the site distribution', {
  domainName: '127.0.0.1',
  httpPort: ghost.port,
});
const secrets = new SecretsManagerClient({});
await secrets.send(
  new CreateSecretCommand({
    Name: 'ghost-ha/local/ghost-admin',
    SecretString: JSON.stringify({ url: ghost.url, adminApiKey: ghost.adminApiKey }),
  }),
);

function startService(name: string, env: Record<string, string>): ManagedProcess {
  const service = new ManagedProcess({
    name,
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', join(REPO_ROOT, 'services', name, 'src', 'main.ts')],
    cwd: REPO_ROOT,
    env: { ...process.env, ...moto.awsEnv(), ...env },
    logFile: join(workDir, `${name}.log`),
  });
  service.start();
  services.push(service);
  return service;
}

async function waitHealthy(service: ManagedProcess, url: string): Promise<void> {
  await waitFor(async () => ((await fetch(url)).ok ? true : undefined), {
    what: `${service.options.name} at ${url}`,
    timeoutMs: 60_000,
    abortIf: () => (service.isRunning ? undefined : `${service.options.name} exited:\n${service.tail()}`),
  });
}

const [healthPort, gatePort, invalidatorPort] = await Promise.all([freePort(), freePort(), freePort()]);
const invalidatorUrl = `http://127.0.0.1:${invalidatorPort}`;
const manualToken = randomBytes(16).toString('hex');
const invalidator = startService('cache-invalidator', {
  PORT: String(invalidatorPort),
  SITE_URL: ghost.url,
  CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
  WEBHOOK_SECRET: randomBytes(24).toString('hex'),
  JOURNAL_DIR: join(workDir, 'journal'),
  MANUAL_INVALIDATION_TOKEN: manualToken,
  PUBLIC_URL: invalidatorUrl,
  GHOST_ADMIN_API_KEY: ghost.adminApiKey,
  REGISTER_WEBHOOKS_ON_START: 'true',
});
const sidecar = database
  ? startService('health-sidecar', {
      HEALTH_PORT: String(healthPort),
      GATE_PORT: String(gatePort),
      GHOST_URL: ghost.url,
      SITE_URL: ghost.url,
      CONTENT_PATH: ghost.contentDir,
      database__connection__host: database.host,
      database__connection__port: String(database.port),
      database__connection__user: database.user,
      database__connection__password: database.password,
      database__connection__database: database.database,
      DISK_FREE_WARN_MB: '100',
    })
  : undefined;
await waitHealthy(invalidator, `${invalidatorUrl}/health/live`);
if (sidecar) await waitHealthy(sidecar, `http://127.0.0.1:${healthPort}/health/ready`);

const sidecarLines = sidecar
  ? `  Through the gate http://127.0.0.1:${gatePort}/   (health-sidecar; 503 while the verdict is fail)
  Health           http://127.0.0.1:${healthPort}/health   /health/ready   /health/startup   /metrics`
  : '  health-sidecar   not started with --sqlite (its database and lock checks need MySQL)';
console.log(`
Ghost HA suite running locally (ready in ${elapsed()}):

  Ghost site       ${ghost.url}/
  Ghost admin      ${ghost.url}/ghost/   sign in as ${OWNER.email} / ${OWNER.password}
  Admin API key    ${ghost.adminApiKey}
${sidecarLines}
  Invalidator      ${invalidatorUrl}/health/ready   /metrics   (webhooks registered in Ghost)
  AWS stand-in     ${moto.endpoint}   (AWS_ENDPOINT_URL; moto_server)
  CloudFront       distribution ${distributionId}
  Secret           ghost-ha/local/ghost-admin (Ghost url + Admin API key)

What to watch:
  Publish a post in Ghost admin; within a second the invalidator sends its paths to CloudFront:
    grep 'invalidation' ${workDir}/cache-invalidator.log
    curl -s ${invalidatorUrl}/metrics | grep cache_invalidator_invalidat
  Stop Ghost's database and watch the verdict turn fail:  curl -s http://127.0.0.1:${healthPort}/health
  Logs             ${ghost.dir}/ghost.log, ${workDir}/*.log

Data lives under ${ghost.dir} and ${workDir} and is removed on exit. Press Ctrl-C to stop.`);
