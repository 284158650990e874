import { type IncomingMessage, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type Check, type Observation, summarizeError } from '@ghost-ha/core';
import type { GhostSettings } from './config.js';

export interface GhostCheckOptions {
  ghost: GhostSettings;
  startupGraceMs: number;
  now: () => number;
}

const MAX_BODY = 64 * 1024;

/**
 * Ghost has no health endpoint; its Admin API `site` resource is public, cheap and answers only once
 * Ghost has booted (503 before). Sent with the Host and `X-Forwarded-Proto` of the site url, since
 * Ghost redirects anything else.
 */
export class GhostCheck implements Check {
  readonly key = 'ghost:responseTime';
  readonly componentType = 'component';
  readonly #ghost: GhostSettings;
  readonly #graceMs: number;
  readonly #now: () => number;
  #graceUntil: number;
  #hasPassed = false;

  constructor(options: GhostCheckOptions) {
    this.#ghost = options.ghost;
    this.#graceMs = options.startupGraceMs;
    this.#now = options.now;
    this.#graceUntil = this.#now() + this.#graceMs;
  }

  /** Ghost starts once this task holds the lock, so its boot is given the grace period from then on. */
  startGrace(): void {
    this.#hasPassed = false;
    this.#graceUntil = this.#now() + this.#graceMs;
  }

  async run(signal: AbortSignal): Promise<Observation> {
    const started = this.#now();
    let response: { status: number; body: string };
    try {
      response = await this.#get(signal);
    } catch (error) {
      const summary = summarizeError(error);
      const reason = summary.code ?? summary.message;
      if (summary.code === 'ECONNREFUSED' && this.#booting()) return starting('Ghost is not listening yet');
      return { status: 'fail', output: `Ghost did not answer: ${reason}` };
    }
    const elapsed = this.#now() - started;
    if (response.status === 503 && this.#booting()) return starting('Ghost answers 503 while it boots');
    if (response.status !== 200) {
      const hint =
        response.status >= 300 && response.status < 400
          ? ' (a redirect: set SITE_URL, or GHOST_HOST and GHOST_FORWARDED_PROTO, to the site url Ghost has)'
          : '';
      return {
        status: 'fail',
        observedValue: elapsed,
        observedUnit: 'ms',
        output: `Ghost answered HTTP ${response.status}${hint}`,
      };
    }
    const version = siteVersion(response.body);
    if (version === undefined) {
      return {
        status: 'fail',
        observedValue: elapsed,
        observedUnit: 'ms',
        output: 'Ghost answered 200 without a site version',
      };
    }
    this.#hasPassed = true;
    return { status: 'pass', observedValue: elapsed, observedUnit: 'ms' };
  }

  #booting(): boolean {
    return !this.#hasPassed && this.#now() < this.#graceUntil;
  }

  #get(signal: AbortSignal): Promise<{ status: number; body: string }> {
    const url = new URL(`${this.#ghost.pathPrefix}/ghost/api/admin/site/`, this.#ghost.url);
    const send = url.protocol === 'https:' ? httpsRequest : request;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method: 'GET',
          signal,
          headers: {
            Host: this.#ghost.host,
            'X-Forwarded-Proto': this.#ghost.forwardedProto,
            Accept: 'application/json',
            'User-Agent': 'ghost-ha-health-sidecar',
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY) chunks.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}

function starting(output: string): Observation {
  return { status: 'warn', observedValue: 'starting', output };
}

function siteVersion(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { site?: { version?: unknown } };
    return typeof parsed.site?.version === 'string' ? parsed.site.version : undefined;
  } catch {
    return undefined;
  }
}
