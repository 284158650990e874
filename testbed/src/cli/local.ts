// Runs the suite locally through the ECS task model: the app template's two task definitions (Ghost
// and the health-sidecar; the cache-invalidator in its own task, reached by the Cloud Map names the
// template gives both), wired as the template wires them, run as local processes by one-task
// services, on a MariaDB of its own (as the Aurora cluster endpoint) and the local AWS
// stand-in (moto: the secrets the task definition names, the CloudFront distribution). The front
// door plays the load balancer at the site URL. Ctrl-C, SIGTERM, SIGHUP or the end of the parent
// process stops and removes everything, also while it is still starting.
import { GhostServer, OWNER } from '../GhostServer.js';
import { LocalStack } from '../LocalStack.js';
import { stopOnExitRequest } from '../stopOnExitRequest.js';
import { REPO_ROOT } from '../tools.js';
import { waitFor } from '../waitFor.js';

if (process.argv.includes('--sqlite')) {
  console.error('npm run local runs the task definition, whose Ghost and sidecar use MySQL: --sqlite is gone.');
  process.exit(2);
}
// What to undo on the way out, last started first; filled as the parts come up.
const teardown: (() => Promise<void>)[] = [];
stopOnExitRequest(async (request) => {
  console.log(`\nStopping (${request})…`);
  for (const step of teardown.reverse()) await step();
});
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

console.log('Starting moto, MariaDB and the task of infra/cloudformation/app.yaml (Ghost waits for its sidecar)…');
const stack = await LocalStack.start({ desiredCount: 1 });
teardown.push(() => stack.destroy());
const task = stack.service.active[0];
if (!task) throw new Error('the service started no task');
const invalidatorTask = stack.invalidator.active[0];
if (!invalidatorTask) throw new Error("the cache-invalidator's service started no task");
const siteUrl = stack.siteUrl;
await waitFor(async () => ((await fetch(`${siteUrl}/ghost/api/admin/site/`)).status === 200 ? true : undefined), {
  what: 'Ghost to answer through the sidecar’s gate',
  timeoutMs: 180_000,
  intervalMs: 250,
  abortIf: () =>
    task.stoppedReason === undefined
      ? undefined
      : `the task stopped (${task.stoppedReason}):\n${task.tail('health-sidecar')}\n${task.tail('ghost')}`,
});
console.log(`Ghost answers after ${elapsed()}`);
const ghost = GhostServer.adopt(siteUrl);
await ghost.setUp();
// The content functions' secret, and the invalidator's own (the integration key alone).
await stack.createSecret('ghost-ha/ghost-admin', JSON.stringify({ url: siteUrl, adminApiKey: ghost.adminApiKey }));
await stack.createSecret('ghost-ha/ghost-integration', JSON.stringify({ adminApiKey: ghost.adminApiKey }));

const healthUrl = task.url(9000);
const invalidatorUrl = invalidatorTask.url(3000);
console.log(`
Ghost HA suite running locally through the ECS task model (ready in ${elapsed()}):

  Ghost site       ${siteUrl}/   (the front door: the load balancer's place, to the sidecar's gate)
  Ghost admin      ${siteUrl}/ghost/   sign in as ${OWNER.email} / ${OWNER.password}
  Admin API key    ${ghost.adminApiKey}   (secrets ghost-ha/ghost-admin and ghost-ha/ghost-integration)
  Task             ${task.id}: ${task.containers.map((c) => `${c.name} pid ${c.pid}`).join(', ')}
  Ports            ${[...task.ports].map(([container, host]) => `${container}→${host}`).join('  ')}   (container→host)
  Invalidator task ${invalidatorTask.id}: ${invalidatorTask.containers.map((c) => `${c.name} pid ${c.pid}`).join(', ')}
  Private names    ${stack.names.map((name) => name.mapping.join(' → ')).join('   ')}
  Ghost direct     ${task.url(2368)}/
  Health           ${healthUrl}/health   /health/ready   /health/startup   /metrics
  Invalidator      ${invalidatorUrl}/health   /health/ready   /metrics
  AWS stand-in     ${stack.moto.endpoint}   (AWS_ENDPOINT_URL; moto_server)
  CloudFront       distribution ${stack.distributionId}
  Database         MariaDB at ${stack.mariadb.host}:${stack.mariadb.port}, database ${stack.databaseName}

What to watch:
  Publish a post in Ghost admin; within a second the invalidator sends its paths to CloudFront:
    grep 'invalidation' ${invalidatorTask.container('cache-invalidator').logFile}
  Stop Ghost's database and watch the verdict turn fail:  curl -s ${healthUrl}/health
  Logs             ${task.dir}/*.log   ${invalidatorTask.dir}/*.log

Data lives under ${task.dir} and is removed on exit. Press Ctrl-C to stop.`);

// Webhooks: what the invalidator does at start with RegisterWebhooks=true once Ghost has an
// integration key, run inside its container (its environment): the key arrives as GHOST_ADMIN_API_KEY,
// as the template injects it from ghost-ha/ghost-integration (the task role reads no secret).
invalidatorTask
  .exec(
    'cache-invalidator',
    process.execPath,
    ['--conditions=source', '--import', 'tsx', `${REPO_ROOT}/services/cache-invalidator/src/registerWebhooks.ts`],
    { GHOST_ADMIN_API_KEY: ghost.adminApiKey },
  )
  .then(
    () => console.log(`Webhooks registered in Ghost (${elapsed()})`),
    (error: Error) => console.error(`Registering the webhooks failed: ${error.message}`),
  );
