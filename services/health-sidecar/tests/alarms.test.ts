// @module-tag integration
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evaluateAlarm,
  freePort,
  healthSidecarEnv,
  healthSidecarProcess,
  type ManagedProcess,
  MariaDbServer,
  parseEmfLines,
  resolveAlarm,
  waitFor,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplate } from '../../../infra/src/parseTemplate.js';

/**
 * The sidecar's verdict alarm of observability.yaml, driven for real: the sidecar as a process on a
 * real MariaDB, publishing EMF lines every second; the Ghost it watches first healthy, then failing;
 * its output evaluated as CloudWatch would evaluate the alarm. A renamed metric or label fails this.
 */
describe('health-sidecar verdict alarm, from the EMF lines the sidecar writes', () => {
  let mariadb: MariaDbServer;
  let ghost: Server;
  let ghostAnswers = 200;
  let dir: string;
  let sidecar: ManagedProcess;

  beforeAll(async () => {
    mariadb = await MariaDbServer.start();
    // Only the answer to the sidecar's probe matters here: a stand-in whose health the test switches.
    ghost = createServer((_req, res) => {
      res.writeHead(ghostAnswers, { 'Content-Type': 'application/json' });
      res.end(ghostAnswers === 200 ? JSON.stringify({ site: { version: '6.65' } }) : '{}');
    });
    await new Promise<void>((resolve) => ghost.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(join(tmpdir(), 'sidecar-alarm-'));
  });
  afterAll(async () => {
    await sidecar?.stop();
    await new Promise((resolve) => ghost?.close(resolve));
    await mariadb?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stays quiet while the verdict passes and breaches once it turns fail', async () => {
    const settings = await mariadb.database('alarm');
    const healthPort = await freePort();
    sidecar = healthSidecarProcess({
      name: 'health-sidecar-alarms',
      env: healthSidecarEnv(
        {
          ghostUrl: `http://127.0.0.1:${(ghost.address() as AddressInfo).port}`,
          contentPath: dir,
          database: settings,
        },
        {
          HEALTH_PORT: String(healthPort),
          STARTUP_GRACE_MS: '0',
          METRICS_NAMESPACE: 'ghost-ha/HealthSidecar',
          METRICS_INTERVAL_SECONDS: '1',
        },
      ),
      logFile: join(dir, 'sidecar.log'),
    });
    sidecar.start();
    const alarm = resolveAlarm(loadTemplate('observability').Resources.VerdictFailAlarm?.Properties ?? {}, {
      ProjectName: 'ghost-ha',
    });
    const verdicts = (status: string) =>
      parseEmfLines(sidecar.tail(100_000)).filter((d) => d.status === status && d.ghost_ha_health_status === 1);

    await waitFor(async () => (verdicts('pass').length >= 2 ? true : undefined), {
      what: 'two EMF publishes with the verdict pass',
      timeoutMs: 60_000,
    });
    expect(evaluateAlarm(alarm, parseEmfLines(sidecar.tail(100_000))).breaching).toBe(false);

    ghostAnswers = 500;
    await waitFor(
      async () => (evaluateAlarm(alarm, parseEmfLines(sidecar.tail(100_000))).breaching ? true : undefined),
      {
        what: 'the verdict alarm to breach',
        timeoutMs: 15_000,
      },
    );
    expect(verdicts('fail').length).toBeGreaterThan(0);
  });
});
