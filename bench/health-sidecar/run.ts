/**
 * health-sidecar benchmarks, side by side in one run against a real Ghost (production mode) on a real
 * MariaDB:
 *   1. /health/ready req/s vs a bare node:http server answering a constant (goal ≥ 0.8×), and an
 *      express 5 route answering the same bytes (what a framework would cost here);
 *   2. requests reaching Ghost while the health endpoint is probed at 200 req/s, ours vs a naive
 *      server that probes Ghost per request (goal ≤ 1 per check interval);
 *   3. a Ghost page's req/s and p99 direct vs through the gate vs through nginx proxy_pass
 *      (goal ≥ 0.95× direct, p99 + ≤ 2 ms);
 *   4. the gate's and nginx's CPU per home page (goal for the gate ≤ 0.5 ms), in front of Ghost's
 *      home page recorded and replayed at Ghost's pace, over thousands of pages.
 *
 * Run: node --conditions=source --import tsx bench/health-sidecar/run.ts
 * Needs wrk and nginx (Debian: apt-get install wrk nginx). Takes about 2 minutes. WARM_UP_SECONDS
 * (default 4, 0 for none) sets the warm-up of each target before bench 3.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, GhostServer, MariaDbServer, REPO_ROOT, waitFor } from '@ghost-ha/testbed';

const PAGE_SECONDS = 2;
const CHECK_INTERVAL_MS = 1_000;
const READY_SECONDS = 2;

function need(tool: string, install: string): void {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
  } catch {
    console.error(`${tool} is missing: ${install}`);
    process.exit(1);
  }
}

interface WrkResult {
  rps: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

// wrk runs asynchronously: the counting proxy lives in this process and must keep answering.
const execFileAsync = promisify(execFile);

async function wrk(
  url: string,
  connections: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const { stdout: out } = await execFileAsync('wrk', [...args, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { rps, requests, p50Ms: percentile(out, '50%'), p99Ms: percentile(out, '99%'), non2xx };
}

function percentile(out: string, which: string): number {
  const match = new RegExp(`^\\s+${which}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
  if (!match?.[1] || !match[2]) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** CPU time (user + system) a process has used so far, from /proc (Linux). */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** wrk against a server process, with the CPU it spent per 1000 requests (less noisy than req/s on shared cores). */
async function wrkWithCpu(url: string, pid: number, seconds: number): Promise<{ rps: number; cpuMsPer1000: number }> {
  const before = cpuMs(pid);
  const result = await wrk(url, 32, seconds);
  return { rps: result.rps, cpuMsPer1000: ((cpuMs(pid) - before) / result.requests) * 1000 };
}

const children: ChildProcess[] = [];
function start(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function answers(url: string, status = 200): Promise<void> {
  await waitFor(async () => ((await fetch(url)).status === status ? true : undefined), {
    what: url,
    timeoutMs: 30_000,
    intervalMs: 100,
  });
}

/** A pass-through proxy that counts requests, between a health checker and Ghost. */
async function countingProxy(target: string): Promise<{ port: number; count: () => number; reset: () => void }> {
  const to = new URL(target);
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    const upstream = request(
      { hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    count: () => count,
    reset: () => {
      count = 0;
    },
  };
}

/**
 * Ghost's answers for `paths`, recorded once, served again after `delayMs` each: an origin with
 * Ghost's bytes and pace whose own CPU is not Ghost's.
 */
async function replayOrigin(
  ghostUrl: string,
  host: string,
  paths: string[],
  delayMs: number,
): Promise<{ port: number; bodyBytes: number; close: () => void }> {
  const recorded = new Map<string, { status: number; headers: string[]; body: Buffer }>();
  for (const path of paths) {
    const answer = await new Promise<{ status: number; headers: string[]; body: Buffer }>((resolve, reject) => {
      request(`${ghostUrl}${path}`, { headers: { Host: host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const headers: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i] ?? '';
            if (/^(connection|keep-alive|transfer-encoding|content-length)$/i.test(name)) continue;
            headers.push(name, res.rawHeaders[i + 1] ?? '');
          }
          headers.push('Content-Length', String(body.length));
          resolve({ status: res.statusCode ?? 0, headers, body });
        });
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    if (answer.status !== 200) throw new Error(`recording ${path}: Ghost answered ${answer.status}`);
    recorded.set(path, answer);
  }
  const server = createServer((req, res) => {
    const answer = recorded.get(req.url ?? '') ?? recorded.get('/');
    setTimeout(() => {
      if (!answer) return res.destroy();
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    bodyBytes: recorded.get('/')?.body.length ?? 0,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Probes `url` at `perSecond` for `seconds` over keep-alive, as several ALB nodes would. */
async function probeAt(url: string, perSecond: number, seconds: number): Promise<{ sent: number; seconds: number }> {
  let sent = 0;
  const total = perSecond * seconds;
  const started = Date.now();
  const pending: Promise<unknown>[] = [];
  while (sent < total) {
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
    while (sent < Math.min(due, total)) {
      pending.push(fetch(url).then((r) => r.arrayBuffer()));
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.allSettled(pending);
  return { sent, seconds: (Date.now() - started) / 1000 };
}

const ratio = (a: number, b: number) => (a / b).toFixed(2);
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function main(): Promise<void> {
  need('wrk', 'apt-get install wrk');
  need('nginx', 'apt-get install nginx');
  const work = await mkdtemp(join(tmpdir(), 'ghost-ha-bench-sidecar-'));
  const content = join(work, 'content');
  await mkdir(content);
  console.log('Starting MariaDB and Ghost (production mode)…');
  const mariadb = await MariaDbServer.start();
  const database = await mariadb.database('ghost_bench');
  const ghost = await GhostServer.start({ database });
  try {
    // Right after its first boot Ghost now and then fails a post with a 500; a second try works.
    for (let attempt = 1; ; attempt++) {
      try {
        await ghost.seedPosts(5, { titlePrefix: `Bench post ${attempt}` });
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    const ghostHost = new URL(ghost.url).host;
    const counter = await countingProxy(ghost.url);

    const sidecarEnv = (ghostUrl: string, lockName: string, ports: { health: number; gate: number }) => ({
      ...process.env,
      LOG_LEVEL: 'warn',
      HEALTH_PORT: String(ports.health),
      GATE_PORT: String(ports.gate),
      GHOST_URL: ghostUrl,
      GHOST_HOST: ghostHost,
      CONTENT_PATH: content,
      database__connection__host: database.host,
      database__connection__port: String(database.port),
      database__connection__user: database.user,
      database__connection__password: database.password,
      database__connection__database: database.database,
      LOCK_NAME: lockName,
      CHECK_INTERVAL_MS: String(CHECK_INTERVAL_MS),
      CHECK_TIMEOUT_MS: '500',
      DISK_FREE_WARN_MB: '0',
    });
    const sidecarArgs = ['--conditions=source', '--import', 'tsx', 'services/health-sidecar/src/main.ts'];
    // Two sidecars, each with its own lock: one checks Ghost through the request counter (benches 1
    // and 2), the other's gate goes straight to Ghost (bench 3).
    const healthPort = await freePort();
    const countedSidecar = start(
      process.execPath,
      sidecarArgs,
      sidecarEnv(`http://127.0.0.1:${counter.port}`, 'bench:counted', { health: healthPort, gate: 0 }),
    );
    const gateHealthPort = await freePort();
    const gatePort = await freePort();
    const gateSidecar = start(
      process.execPath,
      sidecarArgs,
      sidecarEnv(ghost.url, 'bench:gate', { health: gateHealthPort, gate: gatePort }),
    );
    const barePort = await freePort();
    const bareServer = start(process.execPath, [
      '-e',
      `const b=Buffer.from('{"status":"pass"}');require('node:http').createServer((q,s)=>{s.writeHead(200,{'Content-Type':'application/health+json','Content-Length':b.length});s.end(b)}).listen(${barePort},'127.0.0.1')`,
    ]);
    // The same precomputed answer from an express 5 route: what a framework costs on this path.
    const expressPort = await freePort();
    const expressServer = start(process.execPath, [
      '--input-type=module',
      '-e',
      `import express from 'express';const b=Buffer.from('{"status":"pass"}');const app=express();app.get('/health/ready',(q,s)=>{s.status(200).set('Content-Type','application/health+json').send(b)});app.listen(${expressPort},'127.0.0.1')`,
    ]);
    const naivePort = await freePort();
    start(process.execPath, [
      '-e',
      `require('node:http').createServer(async (q,s)=>{try{const r=await fetch('http://127.0.0.1:${counter.port}/ghost/api/admin/site/',{headers:{host:'${ghostHost}'}});await r.arrayBuffer();s.writeHead(r.ok?200:503);s.end()}catch{s.writeHead(503);s.end()}}).listen(${naivePort},'127.0.0.1')`,
    ]);
    await answers(`http://127.0.0.1:${healthPort}/health/ready`);
    await answers(`http://127.0.0.1:${gateHealthPort}/health/ready`);
    await answers(`http://127.0.0.1:${barePort}/`);
    await answers(`http://127.0.0.1:${expressPort}/health/ready`);

    // 1. /health/ready vs a bare server (and express), alternating, medians.
    const rounds1 = 4;
    console.log(
      `\n1. /health/ready vs bare node:http constant vs express 5 (wrk -t1 -c32 -d${READY_SECONDS}s, ${rounds1} runs each, in rotating order)`,
    );
    const servers = [
      { name: 'bare node:http', url: `http://127.0.0.1:${barePort}/health/ready`, pid: bareServer.pid },
      { name: '/health/ready', url: `http://127.0.0.1:${healthPort}/health/ready`, pid: countedSidecar.pid },
      { name: 'express 5 route', url: `http://127.0.0.1:${expressPort}/health/ready`, pid: expressServer.pid },
    ];
    const measured = new Map<string, { rps: number[]; cpu: number[] }>();
    for (let i = 0; i < rounds1; i++) {
      for (const server of rotate(servers, i)) {
        if (server.pid === undefined) throw new Error(`${server.name} has no pid`);
        const { rps, cpuMsPer1000 } = await wrkWithCpu(server.url, server.pid, READY_SECONDS);
        const entry = measured.get(server.name) ?? { rps: [], cpu: [] };
        entry.rps.push(rps);
        entry.cpu.push(cpuMsPer1000);
        measured.set(server.name, entry);
      }
    }
    const bareRun = measured.get('bare node:http');
    if (!bareRun) throw new Error('no bare result');
    for (const [name, entry] of measured) {
      const rps = median(entry.rps);
      const cpu = median(entry.cpu);
      console.log(
        `   ${name.padEnd(16)} median ${rps.toFixed(0).padStart(6)} req/s (${ratio(rps, median(bareRun.rps))}× bare)  CPU ${cpu.toFixed(1)} ms per 1000 requests (bare/this ${ratio(median(bareRun.cpu), cpu)}×)   runs: ${entry.rps.map((n) => n.toFixed(0)).join(' / ')}`,
      );
    }
    console.log('   goal for /health/ready: ≥ 0.8× bare');

    // 2. Requests reaching Ghost while the health endpoint is probed at 200 req/s.
    const probeSeconds = 5;
    console.log(`\n2. Requests reaching Ghost while /health/ready is probed at 200 req/s for ${probeSeconds} s`);
    counter.reset();
    const probedOurs = await probeAt(`http://127.0.0.1:${healthPort}/health/ready`, 200, probeSeconds);
    const reachedOurs = counter.count();
    counter.reset();
    const probedNaive = await probeAt(`http://127.0.0.1:${naivePort}/`, 200, probeSeconds);
    const reachedNaive = counter.count();
    const perInterval = (reached: number, took: number) => (reached / ((took * 1000) / CHECK_INTERVAL_MS)).toFixed(2);
    console.log(
      `   sidecar (interval ${CHECK_INTERVAL_MS} ms): ${probedOurs.sent} probes in ${probedOurs.seconds.toFixed(1)} s → ${reachedOurs} Ghost requests = ${perInterval(reachedOurs, probedOurs.seconds)} per interval (goal ≤ 1)`,
    );
    console.log(
      `   naive (probe per request):  ${probedNaive.sent} probes in ${probedNaive.seconds.toFixed(1)} s → ${reachedNaive} Ghost requests = ${perInterval(reachedNaive, probedNaive.seconds)} per interval`,
    );
    console.log(`   ratio naive/ours ${ratio(reachedNaive, Math.max(reachedOurs, 1))}`);

    // 3. A Ghost page direct vs through the gate vs through nginx.
    const nginxPort = await freePort();
    const nginxDir = join(work, 'nginx');
    await mkdir(nginxDir);
    const ghostPort = new URL(ghost.url).port;
    await writeFile(join(nginxDir, 'nginx.conf'), nginxConfig(nginxDir, nginxPort, Number(ghostPort)));
    const nginx = start('nginx', [
      '-p',
      nginxDir,
      '-c',
      join(nginxDir, 'nginx.conf'),
      '-e',
      join(nginxDir, 'error.log'),
    ]);
    await answers(`http://127.0.0.1:${nginxPort}/`);
    const headers = { Host: ghostHost };
    const bases = {
      direct: ghost.url,
      gate: `http://127.0.0.1:${gatePort}`,
      nginx: `http://127.0.0.1:${nginxPort}`,
    } as const;
    // The home page is what readers get (Ghost renders it: Ghost's CPU dominates); the theme's CSS
    // is served from disk, so the proxy's own cost shows more.
    const pages = { 'home page /': '/', 'asset /assets/built/screen.css': '/assets/built/screen.css' };
    // CPU per request of Ghost and of each proxy in front of it: robust where req/s on busy shared
    // cores is not. nginx's CPU is its master's and its worker's together.
    const ghostPid = pidOf(`${ghost.dir}/current/index.js`);
    const proxyPids: Record<string, number[]> = {
      direct: [],
      gate: gateSidecar.pid === undefined ? [] : [gateSidecar.pid],
      nginx: nginx.pid === undefined ? [] : [nginx.pid, ...childrenOf(nginx.pid)],
    };
    const cpuOf = (pids: number[]) => sum(pids.map(cpuMs));
    // The gate's process also runs the health checks: their CPU (measured idle) is not the proxy's.
    const idleMs = 3_000;
    const idleBefore = cpuOf(proxyPids.gate ?? []);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const backgroundPerSecond: Record<string, number> = {
      gate: ((cpuOf(proxyPids.gate ?? []) - idleBefore) * 1000) / idleMs,
    };
    console.log(
      `\n   (gate sidecar idle: ${backgroundPerSecond.gate?.toFixed(1)} ms CPU per second for its checks, subtracted below)`,
    );
    // A fresh Node process runs its first few thousand requests through unoptimised code (about three
    // times the CPU per request); a gate in a task serves for days. Every target gets the same
    // warm-up on the asset (cheap for Ghost), so the figures below are steady-state ones.
    const warmUpSeconds = Number(process.env.WARM_UP_SECONDS ?? 4);
    if (warmUpSeconds > 0) {
      const warmed: string[] = [];
      for (const [name, base] of Object.entries(bases)) {
        const warm = await wrk(`${base}${pages['asset /assets/built/screen.css']}`, 8, warmUpSeconds, headers);
        warmed.push(`${name} ${warm.requests}`);
      }
      console.log(`\n   warm-up: ${warmUpSeconds} s of the asset on each target (requests: ${warmed.join(', ')})`);
    }
    const roundsPerPage = { 'home page /': 5, 'asset /assets/built/screen.css': 3 };
    for (const [label, path] of Object.entries(pages)) {
      const rounds = roundsPerPage[label as keyof typeof roundsPerPage];
      console.log(`\n3. ${label}: wrk -t1 -c8 -d${PAGE_SECONDS}s --latency, ${rounds} runs each, in rotating order`);
      const results: Record<string, (WrkResult & { ghostCpu: number; proxyCpu: number })[]> = {};
      for (let i = 0; i < rounds; i++) {
        for (const [name, base] of rotate(Object.entries(bases), i)) {
          const pids = proxyPids[name] ?? [];
          const [ghostBefore, proxyBefore, startedAt] = [cpuMs(ghostPid), cpuOf(pids), Date.now()];
          const result = await wrk(`${base}${path}`, 8, PAGE_SECONDS, headers);
          const background = ((backgroundPerSecond[name] ?? 0) * (Date.now() - startedAt)) / 1000;
          const perThousand = (used: number) => (Math.max(0, used) / result.requests) * 1000;
          const run = {
            ...result,
            ghostCpu: perThousand(cpuMs(ghostPid) - ghostBefore),
            proxyCpu: perThousand(cpuOf(pids) - proxyBefore - background),
          };
          results[name] = [...(results[name] ?? []), run];
        }
      }
      const summary = Object.entries(results).map(([name, runs]) => ({
        name,
        rps: median(runs.map((r) => r.rps)),
        p99: median(runs.map((r) => r.p99Ms)),
        ghostCpu: median(runs.map((r) => r.ghostCpu)),
        proxyCpu: median(runs.map((r) => r.proxyCpu)),
        non2xx: sum(runs.map((r) => r.non2xx)),
        all: runs.map((r) => r.rps.toFixed(0)).join(' / '),
      }));
      const direct = summary.find((s) => s.name === 'direct');
      if (!direct) throw new Error('no direct result');
      for (const s of summary) {
        const delta = s.p99 - direct.p99;
        console.log(
          `   ${s.name.padEnd(7)} median ${s.rps.toFixed(1).padStart(7)} req/s (${ratio(s.rps, direct.rps)}× direct)  p99 ${ms(s.p99)} (${delta >= 0 ? '+' : ''}${ms(delta)} vs direct)  CPU per 1000: Ghost ${s.ghostCpu.toFixed(0)} ms, proxy ${s.proxyCpu.toFixed(0)} ms (+${((s.proxyCpu / s.ghostCpu) * 100).toFixed(1)} %)   runs: ${s.all}${s.non2xx ? `  non-2xx ${s.non2xx}` : ''}`,
        );
      }
    }

    // 4. The proxies' CPU per home page, over thousands of pages: Ghost's home page (and the site
    // endpoint the sidecar checks) recorded once and served again after REPLAY_DELAY_MS, about what
    // Ghost takes to render it, so the proxies see Ghost's bytes, headers and pace while Ghost's own
    // CPU stays out of the measurement and out of the way.
    const replayDelayMs = Number(process.env.REPLAY_DELAY_MS ?? 25);
    const replay = await replayOrigin(ghost.url, ghostHost, ['/', '/ghost/api/admin/site/'], replayDelayMs);
    const replayGateHealthPort = await freePort();
    const replayGatePort = await freePort();
    const replayGate = start(
      process.execPath,
      sidecarArgs,
      sidecarEnv(`http://127.0.0.1:${replay.port}`, 'bench:replay', {
        health: replayGateHealthPort,
        gate: replayGatePort,
      }),
    );
    const replayNginxPort = await freePort();
    const replayNginxDir = join(work, 'nginx-replay');
    await mkdir(replayNginxDir);
    await writeFile(join(replayNginxDir, 'nginx.conf'), nginxConfig(replayNginxDir, replayNginxPort, replay.port));
    const replayNginx = start('nginx', [
      '-p',
      replayNginxDir,
      '-c',
      join(replayNginxDir, 'nginx.conf'),
      '-e',
      join(replayNginxDir, 'error.log'),
    ]);
    await answers(`http://127.0.0.1:${replayGateHealthPort}/health/ready`);
    await answers(`http://127.0.0.1:${replayNginxPort}/`);
    const replayTargets = [
      { name: 'direct', base: `http://127.0.0.1:${replay.port}`, pids: [] as number[] },
      { name: 'gate', base: `http://127.0.0.1:${replayGatePort}`, pids: replayGate.pid ? [replayGate.pid] : [] },
      {
        name: 'nginx',
        base: `http://127.0.0.1:${replayNginxPort}`,
        pids: replayNginx.pid ? [replayNginx.pid, ...childrenOf(replayNginx.pid)] : [],
      },
    ];
    const replayIdleBefore = cpuOf(replayTargets[1]?.pids ?? []);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const replayBackground = ((cpuOf(replayTargets[1]?.pids ?? []) - replayIdleBefore) * 1000) / idleMs;
    const replayRounds = 5;
    const replaySeconds = 3;
    // First the proxies as they start: a fresh process's first pages, before any warm-up.
    const cold: string[] = [];
    for (const target of replayTargets.slice(1)) {
      const before = cpuOf(target.pids);
      const startedAt = Date.now();
      const result = await wrk(`${target.base}/`, 8, replaySeconds, headers);
      const background = target.name === 'gate' ? (replayBackground * (Date.now() - startedAt)) / 1000 : 0;
      cold.push(
        `${target.name} ${ms(Math.max(0, cpuOf(target.pids) - before - background) / result.requests)} per page (first ${result.requests} pages)`,
      );
    }
    console.log(`\n4. cold, fresh processes: ${cold.join(', ')}`);
    for (const target of replayTargets) await wrk(`${target.base}/`, 8, warmUpSeconds || 1, headers);
    console.log(
      `4. recorded home page (${replay.bodyBytes} bytes) served again after ${replayDelayMs} ms: wrk -t1 -c8 -d${replaySeconds}s, ${replayRounds} runs each, in rotating order, after the same warm-up`,
    );
    const perPage = new Map<string, { cpu: number[]; rps: number[]; p99: number[] }>();
    for (let i = 0; i < replayRounds; i++) {
      for (const target of rotate(replayTargets, i)) {
        const [before, startedAt] = [cpuOf(target.pids), Date.now()];
        const result = await wrk(`${target.base}/`, 8, replaySeconds, headers);
        const background = target.name === 'gate' ? (replayBackground * (Date.now() - startedAt)) / 1000 : 0;
        const entry = perPage.get(target.name) ?? { cpu: [], rps: [], p99: [] };
        entry.cpu.push(Math.max(0, cpuOf(target.pids) - before - background) / result.requests);
        entry.rps.push(result.rps);
        entry.p99.push(result.p99Ms);
        perPage.set(target.name, entry);
      }
    }
    for (const [name, entry] of perPage) {
      console.log(
        `   ${name.padEnd(7)} median ${median(entry.rps).toFixed(0).padStart(5)} req/s  p99 ${ms(median(entry.p99))}  proxy CPU per page ${ms(median(entry.cpu))}   runs: ${entry.cpu.map((n) => n.toFixed(3)).join(' / ')} ms`,
      );
    }
    replay.close();
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await ghost.destroy();
    await mariadb.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

function nginxConfig(dir: string, port: number, ghostPort: number): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream ghost { server 127.0.0.1:${ghostPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://ghost;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
}

/** The list starting at its `by`-th element: each round puts another target first (no order bias). */
function rotate<T>(items: readonly T[], by: number): T[] {
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** The pid of the one process whose command line contains `needle`. */
function pidOf(needle: string): number {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.includes(needle));
  const pid = Number(line?.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no process with '${needle}'`);
  return pid;
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

process.chdir(REPO_ROOT);
await main();
process.exit(0);
