// @module-tag integration
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  EDGE_TEST_PARAMETERS,
  type EmfDocument,
  evaluateAlarm,
  InlineLambdaFunction,
  loadEdgeSettings,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  MotoServer,
  OriginGroupEmulator,
  parseEmfLines,
  resolveAlarm,
  templateEvaluator,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplate } from '../src/parseTemplate.js';
import { resolveConditions } from '../src/resolveConditions.js';

// biome-ignore lint/suspicious/noExplicitAny: template JSON.
type Json = any;

const CANARY_KEY = 'site/.ghost-ha-canary.html';
const CANARY_BODY = readFileSync(join(import.meta.dirname, '..', 'mirror-canary.html'));

/** The ALB's fixed answer for the canary path, read from app.yaml's listener rule. */
function canaryRule(): { path: string; status: number } {
  const rule = resolveConditions(loadTemplate('app'), {}).Resources.MirrorCanaryRule?.Properties as Json;
  return {
    path: rule.Conditions[0].PathPatternConfig.Values[0],
    status: Number(rule.Actions[0].FixedResponseConfig.StatusCode),
  };
}

/** The probe as edge.yaml defines it: its inline code and its environment, evaluated. */
function probe(fetchImpl: typeof fetch, log: (line: string) => void): InlineLambdaFunction {
  const template = loadTemplate('edge');
  const resolved = resolveConditions(template, EDGE_TEST_PARAMETERS);
  const properties = resolved.Resources.MirrorCanaryFunction?.Properties as Json;
  const evaluate = templateEvaluator({ template, resolved, parameters: EDGE_TEST_PARAMETERS });
  const environment = evaluate(properties.Environment.Variables) as Record<string, string>;
  return new InlineLambdaFunction('MirrorCanaryFunction', String(properties.Code.ZipFile), fetchImpl, {
    log,
    environment,
  });
}

describe('mirror canary: the probe in edge.yaml through the edge as configured, and its alarm', () => {
  let moto: MotoServer;
  let alb: Server;
  let s3: S3Client;
  let edge: OriginGroupEmulator;
  const rule = canaryRule();
  const lines: string[] = [];
  const settings = loadEdgeSettings();
  const alarm = resolveAlarm(loadTemplate('edge').Resources.MirrorCanaryAlarm?.Properties as Record<string, unknown>, {
    ProjectName: 'ghost-ha',
  });

  beforeAll(async () => {
    moto = await MotoServer.start();
    s3 = new S3Client({
      region: MOTO_REGION,
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: { ...MOTO_CREDENTIALS },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'mirror' }));
    // The ALB: the canary rule's fixed answer for its path, Ghost's 404 for anything else here.
    alb = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === rule.path) res.writeHead(rule.status, { 'Content-Type': 'text/plain' }).end('mirror canary');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => alb.listen(0, '127.0.0.1', resolve));
    edge = await OriginGroupEmulator.start({
      primary: { url: `http://127.0.0.1:${(alb.address() as AddressInfo).port}` },
      secondary: { client: s3, bucket: 'mirror' },
      timeScale: 0.01,
    });
  });

  afterAll(async () => {
    await edge?.close();
    alb?.closeAllConnections();
    await new Promise<void>((resolve) => (alb ? alb.close(() => resolve()) : resolve()));
    await moto?.destroy();
  });

  /** Runs the probe once per 5-minute schedule slot, its requests to the site going to the emulator. */
  async function runs(count: number, startMs: number): Promise<EmfDocument[]> {
    const site = String(EDGE_TEST_PARAMETERS.Aliases).split(',')[0];
    const toEdge: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      if (url.hostname !== site) throw new Error(`the probe fetched ${url.hostname}`);
      return fetch(`${edge.url}${url.pathname}`, init);
    };
    const documents: EmfDocument[] = [];
    for (let run = 0; run < count; run += 1) {
      const before = lines.length;
      await probe(toEdge, (line) => lines.push(line)).invoke({});
      for (const document of parseEmfLines(lines.slice(before).join('\n'))) {
        document._aws.Timestamp = startMs + run * 300_000;
        documents.push(document);
      }
    }
    return documents;
  }

  it('the ALB answers the canary path with a status the origin group fails over on', () => {
    expect(settings.groups.get('ghost-regions')?.failoverStatusCodes).toContain(rule.status);
    expect(settings.behaviors.find((b) => b.pathPattern === rule.path)?.targetOriginId).toBe('ghost-regions');
  });

  it('a mirror that holds the canary: each run gets it from the mirror, the alarm stays quiet', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: 'mirror', Key: CANARY_KEY, Body: CANARY_BODY, ContentType: 'text/html' }),
    );
    const documents = await runs(3, 1_800_000_000_000);
    expect(documents.map((d) => d.MirrorCanaryOk)).toEqual([1, 1, 1]);
    expect(edge.routed.filter((r) => r.path === rule.path).every((r) => r.servedBy !== 'cache')).toBe(true);
    expect(edge.routed.at(-1)).toMatchObject({ path: rule.path, status: 200, failoverReason: String(rule.status) });
    expect(evaluateAlarm(alarm, documents).breaching).toBe(false);
  });

  it('a mirror without the canary (a broken mirror): the runs say 0 and the alarm fires', async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: 'mirror', Key: CANARY_KEY }));
    const documents = await runs(2, 1_800_000_900_000);
    expect(documents.map((d) => [d.MirrorCanaryOk, d.status])).toEqual([
      [0, 404],
      [0, 404],
    ]);
    const evaluation = evaluateAlarm(alarm, documents);
    expect(evaluation.breaching).toBe(true);
    expect([...evaluation.datapoints.values()]).toEqual([0, 0]);
  });

  it('a mirror that answers headers and then hangs: the run still reports 0 before the function times out', async () => {
    const canary = resolveConditions(loadTemplate('edge'), EDGE_TEST_PARAMETERS).Resources.MirrorCanaryFunction;
    const timeoutSeconds = Number((canary?.Properties as Json)?.Timeout);
    expect(timeoutSeconds).toBeGreaterThan(0);
    // A half-open mirror: 200 and the first bytes, then nothing, the connection held open.
    const held: Socket[] = [];
    const hung = createServer((req, res) => {
      held.push(req.socket);
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.write('<!doctype html><title>');
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const toHung: typeof fetch = (input, init) =>
        fetch(`http://127.0.0.1:${(hung.address() as AddressInfo).port}${new URL(String(input)).pathname}`, init);
      const before = lines.length;
      const started = Date.now();
      await probe(toHung, (line) => lines.push(line)).invoke({});
      const tookMs = Date.now() - started;
      const [document] = parseEmfLines(lines.slice(before).join('\n'));
      expect(document?.MirrorCanaryOk, 'a hung mirror is a failed run, not a missing one').toBe(0);
      expect(tookMs, "the run ended before Lambda's own timeout would have cut it off unreported").toBeLessThan(
        timeoutSeconds * 1000,
      );
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  }, 60_000);
});
