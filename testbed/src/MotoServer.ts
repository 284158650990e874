import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort.js';
import { ManagedProcess } from './ManagedProcess.js';
import { pythonToolsBin, REPO_ROOT } from './tools.js';
import { waitFor } from './waitFor.js';

/** Credentials moto accepts; they reach no AWS account. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;
export const MOTO_REGION = 'us-east-1';

export interface MotoServerOptions {
  /**
   * Start moto through `testbed/moto/launch.py`, which adds what the failover drill needs: Aurora
   * global switchover/failover, EFS replication with both sides' state and file-system protection,
   * and simulated regional outages (`startOutage`).
   */
  readonly extended?: boolean;
}

/**
 * moto_server on a free port: CloudFront, Secrets Manager and S3 over their real wire protocols.
 * Clients reach it through the SDK's standard `AWS_ENDPOINT_URL`, which `awsEnv()` sets.
 */
export class MotoServer {
  endpoint = '';
  #dir = '';
  #process: ManagedProcess | undefined;

  static async start(options: MotoServerOptions = {}): Promise<MotoServer> {
    const server = new MotoServer();
    server.#dir = await mkdtemp(join(tmpdir(), 'ghost-ha-moto-'));
    const port = await freePort();
    server.endpoint = `http://127.0.0.1:${port}`;
    server.#process = new ManagedProcess({
      name: 'moto_server',
      command: join(pythonToolsBin(), options.extended ? 'python' : 'moto_server'),
      args: [
        ...(options.extended ? [join(REPO_ROOT, 'testbed', 'moto', 'launch.py')] : []),
        '-H',
        '127.0.0.1',
        '-p',
        String(port),
      ],
      logFile: join(server.#dir, 'moto.log'),
    });
    server.#process.start();
    const managed = server.#process;
    try {
      await waitFor(async () => ((await fetch(`${server.endpoint}/moto-api/`)).ok ? true : undefined), {
        what: 'moto_server to answer',
        timeoutMs: 30_000,
        abortIf: () => (managed.isRunning ? undefined : `moto_server exited:\n${managed.tail()}`),
      });
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** The environment an AWS SDK client (in this process or a child) needs to talk to moto. */
  awsEnv(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: MOTO_REGION,
    };
  }

  /** Puts `awsEnv()` into this process's environment; returns a function that restores it. */
  useInThisProcess(): () => void {
    const saved = new Map<string, string | undefined>();
    for (const [key, value] of Object.entries(this.awsEnv())) {
      saved.set(key, process.env[key]);
      process.env[key] = value;
    }
    return () => {
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    };
  }

  /**
   * Extended server only: every request signed for `region` gets a 503 until `endOutage`; with
   * `hang`, it first gets no answer for 20 s (endpoints that accept connections and stall).
   */
  async startOutage(region: string, options: { hang?: boolean } = {}): Promise<void> {
    await this.#outage('POST', options.hang ? `${region}?mode=hang` : region);
  }

  async endOutage(region: string): Promise<void> {
    await this.#outage('DELETE', region);
  }

  /**
   * Extended server only: every call whose "service:Operation" matches `operation` in full (e.g.
   * `ecs:UpdateService`, `s3:DELETE`; the HTTP method for REST services) gets no answer for 20 s,
   * then a 503, and is not carried out; every other call is answered. `endStalls` ends them all.
   */
  async stall(operation: string): Promise<void> {
    const response = await fetch(`${this.endpoint}/ghost-ha/stall?operation=${encodeURIComponent(operation)}`, {
      method: 'POST',
    });
    if (!response.ok) throw new Error(`moto stall control answered ${response.status}: ${await response.text()}`);
  }

  async endStalls(): Promise<void> {
    const response = await fetch(`${this.endpoint}/ghost-ha/stall`, { method: 'DELETE' });
    if (!response.ok) throw new Error(`moto stall control answered ${response.status}`);
  }

  async #outage(method: 'POST' | 'DELETE', region: string): Promise<void> {
    const response = await fetch(`${this.endpoint}/ghost-ha/outage/${region}`, { method });
    if (!response.ok) throw new Error(`moto outage control answered ${response.status} (started without extended?)`);
  }

  /**
   * Extended server only: how long the stand-in's Aurora transitions take, in seconds
   * (transition_seconds, pending_seconds, cancel_seconds, rebuild_seconds); reset() restores them.
   */
  async setTiming(timing: Readonly<Record<string, number>>): Promise<void> {
    const response = await fetch(`${this.endpoint}/ghost-ha/timing`, { method: 'POST', body: JSON.stringify(timing) });
    if (!response.ok) throw new Error(`moto timing control answered ${response.status}: ${await response.text()}`);
  }

  /**
   * Extended server only: pauses the EFS replication whose source is `sourceFileSystemId` (PAUSING,
   * then PAUSED), puts it in ERROR, or resumes it (ENABLED); nothing is replicated meanwhile.
   */
  async setReplicationStatus(sourceFileSystemId: string, status: 'PAUSED' | 'ERROR' | 'ENABLED'): Promise<void> {
    const response = await fetch(`${this.endpoint}/ghost-ha/efs-replication/${sourceFileSystemId}?status=${status}`, {
      method: 'POST',
    });
    if (!response.ok) throw new Error(`moto replication control answered ${response.status}: ${await response.text()}`);
  }

  /**
   * Extended server only: writes a file to an EFS file system as Ghost would. Returns false when
   * the file system refuses it (read-only: replication overwrite protection DISABLED or REPLICATING).
   */
  async writeFile(fileSystemId: string, name: string): Promise<boolean> {
    const response = await fetch(
      `${this.endpoint}/ghost-ha/efs-write/${fileSystemId}?name=${encodeURIComponent(name)}`,
      { method: 'POST' },
    );
    if (response.status === 409) return false;
    if (!response.ok) throw new Error(`moto file write answered ${response.status}: ${await response.text()}`);
    return true;
  }

  /** Extended server only: the files an EFS file system holds now (replication applied). */
  async filesOf(fileSystemId: string): Promise<string[]> {
    const response = await fetch(`${this.endpoint}/ghost-ha/efs-files/${fileSystemId}`);
    if (!response.ok) throw new Error(`moto file listing answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { files: string[] }).files;
  }

  /** Extended server only: the files an AWS Backup recovery point of a file system holds. */
  async recoveryPointFiles(recoveryPointArn: string): Promise<string[]> {
    const response = await fetch(
      `${this.endpoint}/ghost-ha/recovery-point?arn=${encodeURIComponent(recoveryPointArn)}`,
    );
    if (!response.ok) throw new Error(`moto recovery point answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { files: string[] }).files;
  }

  /**
   * Extended server only: the health-sidecar in `region` writes its heartbeat row into the global
   * database (ghost_ha_heartbeat). Returns when it was written, or undefined when refused (that
   * region's cluster is not the writer). It reaches the other regions' clusters unless `region` is down.
   */
  async writeHeartbeat(region: string, holder = `task-${region}`): Promise<string | undefined> {
    const response = await fetch(`${this.endpoint}/ghost-ha/heartbeat/${region}?holder=${encodeURIComponent(holder)}`, {
      method: 'POST',
    });
    if (response.status === 409) return undefined;
    if (!response.ok) throw new Error(`moto heartbeat answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { writtenAt: string }).writtenAt;
  }

  /**
   * Extended server only: what an ECS service's tasks did. From the first report on, the service
   * no longer runs what UpdateService asks at once: its counts move only with these reports, and a
   * FAILED rollout is the circuit breaker giving up on a deployment whose tasks keep failing.
   */
  async reportServiceTasks(
    region: string,
    cluster: string,
    service: string,
    report: { running: number; rolloutState?: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED'; reason?: string },
  ): Promise<void> {
    const response = await fetch(`${this.endpoint}/ghost-ha/ecs-service/${region}/${cluster}/${service}`, {
      method: 'POST',
      body: JSON.stringify(report),
    });
    if (!response.ok) throw new Error(`moto ECS service control answered ${response.status}: ${await response.text()}`);
  }

  /** Forgets every resource moto holds (and, extended, every outage). */
  async reset(): Promise<void> {
    await fetch(`${this.endpoint}/moto-api/reset`, { method: 'POST' });
  }

  async destroy(): Promise<void> {
    await this.#process?.stop(5_000);
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}
