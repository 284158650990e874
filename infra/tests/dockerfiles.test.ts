// @module-tag integration
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { majorOf, PINNED_VERSIONS, REPO_ROOT } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Dockerfile instructions in order, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of the last stage (what the image is made of). */
function finalStage(all: Instruction[]): Instruction[] {
  const lastFrom = all.map((i) => i.keyword).lastIndexOf('FROM');
  return all.slice(lastFrom);
}

const SERVICES = [
  { name: 'health-sidecar', portVariable: 'HEALTH_PORT', port: 9000 },
  { name: 'cache-invalidator', portVariable: 'PORT', port: 3000 },
] as const;

describe.each(SERVICES)('services/$name/Dockerfile', ({ name, portVariable, port }) => {
  const text = readFileSync(join(REPO_ROOT, 'services', name, 'Dockerfile'), 'utf8');
  const all = instructions(text);
  const final = finalStage(all);
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `ghost-ha-${name}-bundle-`));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is multi-stage: the final stage copies only the bundle from the build stage', () => {
    expect(all.filter((i) => i.keyword === 'FROM').length).toBeGreaterThanOrEqual(2);
    const copies = final.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
    expect(copies).toHaveLength(1);
    expect(copies[0]?.args).toMatch(/^--from=build .*\/out\/ \/app\/$/);
    expect(final.some((i) => /node_modules|npm (ci|install)/.test(i.args))).toBe(false);
  });

  it('runs as a non-root user', () => {
    const users = final.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)?.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it(`checks ${portVariable} /health/live in its HEALTHCHECK, with the port it exposes by default`, () => {
    const check = final.find((i) => i.keyword === 'HEALTHCHECK');
    expect(check?.args).toContain('/health/live');
    expect(check?.args).toContain(`process.env.${portVariable}||${port}`);
    const env = final
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toContain(`${portVariable}=${port}`);
    expect(final.find((i) => i.keyword === 'EXPOSE')?.args.split(' ')).toContain(String(port));
  });

  it('its HEALTHCHECK command passes on 200 and fails on 503 or no answer', async () => {
    const check = final.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    const [, json = '[]'] = /CMD (\[.*\])$/.exec(check) ?? [];
    const [binary, ...args] = JSON.parse(json) as string[];
    expect(binary).toBe('node');
    let status = 200;
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/health/live' ? status : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const probePort = (server.address() as AddressInfo).port;
    const probe = () =>
      run(process.execPath, args, { env: { ...process.env, [portVariable]: String(probePort) } }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    try {
      expect(await probe()).toBe(0);
      status = 503;
      expect(await probe()).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await probe()).toBe(1);
  });

  it('builds on the Node.js of versions.json, its base image pinned by digest', () => {
    const image = all.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args ?? '';
    // A tag alone names whatever the registry points it at on the day of the build.
    expect(image).toMatch(new RegExp(`^NODE_IMAGE=node:${PINNED_VERSIONS.node}-bookworm-slim@sha256:[0-9a-f]{64}$`));
    expect(PINNED_VERSIONS.node.startsWith(`${majorOf(PINNED_VERSIONS.node)}.`)).toBe(true);
    expect(all.filter((i) => i.keyword === 'FROM').every((i) => /^\$\{NODE_IMAGE\} AS /.test(i.args))).toBe(true);
  });

  it('installs with `npm ci` only: exactly the lock file, never a fresh resolution', () => {
    const installs = all.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toMatch(/^npm ci /);
  });

  it("bundles main.ts with the Dockerfile's build command (the project's one recipe) into a file that starts", async () => {
    const build = all.find((i) => i.keyword === 'RUN' && i.args.includes('scripts/lib/build.mjs'));
    const command = (build?.args ?? '').split('&&')[0]?.trim() ?? '';
    expect(command).toBe(`node scripts/lib/build.mjs service services/${name}/src/main.ts /out/main.mjs`);
    const outfile = join(dir, 'main.mjs');
    // The same arguments, bundling into a temporary directory instead of /out.
    await run('bash', ['-c', command.replace('/out/main.mjs', outfile)], { cwd: REPO_ROOT });
    // Without configuration it must stop at once, naming what is missing: every module loaded.
    const started = await run(process.execPath, [outfile], {
      env: { PATH: process.env.PATH ?? '' },
      timeout: 20_000,
    }).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );
    expect(started.code).not.toBe(0);
    expect(started.output).toMatch(/Invalid configuration/);
  });
});
