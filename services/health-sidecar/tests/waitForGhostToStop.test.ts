import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForGhostToStop } from '../src/waitForGhostToStop.js';

// A task metadata endpoint (v4) whose `ghost` container is in `known`; Ghost's port is closed
// throughout (Ghost 6 closes its listener first, then finishes its database work).
let known = 'RUNNING';
let server: Server;
let metadataUri: string;
let closedGhostUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url !== '/v4/task-1/health-sidecar/task') return void response.writeHead(404).end();
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({
        TaskARN: 'arn:aws:ecs:us-east-1:123456789012:task/local/task-1',
        Containers: [
          { Name: 'health-sidecar', KnownStatus: 'RUNNING' },
          { Name: 'ghost', KnownStatus: known },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  metadataUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/task-1/health-sidecar`;
  closedGhostUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('waitForGhostToStop: "stopped" is the task metadata endpoint’s word, not a closed port', () => {
  it('a closed port with the ghost container still RUNNING is not "stopped"', async () => {
    known = 'RUNNING';
    expect(await waitForGhostToStop(closedGhostUrl, 600, { metadataUri, pollMs: 100 })).toBe(false);
  });

  it('STOPPED (its process exited) is', async () => {
    known = 'RUNNING';
    setTimeout(() => {
      known = 'STOPPED';
    }, 300).unref();
    expect(await waitForGhostToStop(closedGhostUrl, 3_000, { metadataUri, pollMs: 100 })).toBe(true);
  });

  it('an endpoint that does not answer is not evidence', async () => {
    const gone = `http://127.0.0.1:${await freePort()}/v4/task-1/health-sidecar`;
    expect(await waitForGhostToStop(closedGhostUrl, 400, { metadataUri: gone, pollMs: 100 })).toBe(false);
  });
});
