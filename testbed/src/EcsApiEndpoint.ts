import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { EcsTaskModel } from './EcsTaskModel.js';
import { MODEL_CLUSTER_ARN } from './EcsTaskModel.js';

/**
 * How long after a task (or container) really stopped `DescribeTasks` reports it `STOPPED`: ECS
 * learns it from its agent and the API reads an eventually consistent view. Not documented; seconds.
 */
export const ECS_API_STATUS_DELAY_MS = 3_000;

/** What the API reads of a task (an `EcsTaskModel`). */
export type DescribedTask = Pick<
  EcsTaskModel,
  'arn' | 'id' | 'createdAt' | 'runningAt' | 'stoppingAt' | 'stoppedAt' | 'stoppedReason' | 'containers'
>;

export interface EcsApiEndpointOptions {
  /** The tasks the cluster knows (the service model's, stopped ones included). */
  tasks: () => readonly DescribedTask[];
  /** Default `ECS_API_STATUS_DELAY_MS`. */
  statusDelayMs?: number;
}

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
/** DescribeTasks takes at most 100 tasks. https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html */
const MAX_TASKS = 100;

/**
 * The ECS API's `DescribeTasks` over the task model, in ECS's own protocol (JSON 1.1, the
 * `X-Amz-Target` header, a SigV4-signed request), for the SDK's ECS client pointed here through
 * `AWS_ENDPOINT_URL_ECS`. It reports what the model did `statusDelayMs` ago: a task or container
 * reads `STOPPED` only that long after it really stopped, never before. `unreachable` resets every
 * connection (the API, or the path to it, is down). Other operations are refused.
 */
export class EcsApiEndpoint {
  statusDelayMs: number;
  unreachable = false;
  /** DescribeTasks calls answered, for tests that must see the evidence path used. */
  calls = 0;
  readonly #options: EcsApiEndpointOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(options: EcsApiEndpointOptions) {
    this.#options = options;
    this.statusDelayMs = options.statusDelayMs ?? ECS_API_STATUS_DELAY_MS;
    this.#server = createServer((request, response) => {
      void this.#handle(request, response).catch(() => {
        if (!response.headersSent) answer(response, 500, { __type: 'ServerException', message: 'internal error' });
      });
    });
    this.#server.on('connection', (socket) => {
      if (this.unreachable) {
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: EcsApiEndpointOptions): Promise<EcsApiEndpoint> {
    const endpoint = new EcsApiEndpoint(options);
    await new Promise<void>((resolve) => endpoint.#server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Cuts open connections too, when the API becomes unreachable. */
  setUnreachable(unreachable: boolean): void {
    this.unreachable = unreachable;
    if (unreachable) for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 64 * 1024) return answer(response, 413, { __type: 'ClientException', message: 'request too large' });
      chunks.push(chunk);
    }
    if (request.method !== 'POST' || request.url !== '/')
      return answer(response, 404, { __type: 'UnknownOperationException' });
    // Every ECS API call is signed (SigV4); the model checks that it is, not the signature itself.
    if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
      return answer(response, 400, {
        __type: 'MissingAuthenticationTokenException',
        message: 'Missing Authentication Token',
      });
    const target = String(request.headers['x-amz-target'] ?? '');
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1'))
      return answer(response, 400, {
        __type: 'SerializationException',
        message: 'expected application/x-amz-json-1.1',
      });
    if (target !== `${TARGET_PREFIX}DescribeTasks`)
      return answer(response, 400, { __type: 'UnknownOperationException', message: `not modelled: ${target}` });
    let input: { cluster?: unknown; tasks?: unknown };
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as typeof input;
    } catch {
      return answer(response, 400, { __type: 'SerializationException', message: 'invalid JSON' });
    }
    const tasks = input.tasks;
    if (!Array.isArray(tasks) || tasks.length === 0 || tasks.length > MAX_TASKS || !tasks.every(isString))
      return answer(response, 400, {
        __type: 'InvalidParameterException',
        message: `tasks must list 1 to ${MAX_TASKS} task ids or ARNs`,
      });
    // Without a cluster, ECS looks in the account's `default` cluster.
    const cluster = typeof input.cluster === 'string' ? input.cluster : 'default';
    const clusterName = MODEL_CLUSTER_ARN.split('/').pop();
    if (cluster !== MODEL_CLUSTER_ARN && cluster !== clusterName)
      return answer(response, 400, { __type: 'ClusterNotFoundException', message: 'Cluster not found.' });
    this.calls++;
    const asOf = Date.now() - this.statusDelayMs;
    const known = this.#options.tasks();
    const found: Record<string, unknown>[] = [];
    const failures: { arn: string; reason: string }[] = [];
    for (const wanted of tasks) {
      const task = known.find((candidate) => candidate.arn === wanted || candidate.id === wanted);
      if (!task || task.createdAt > asOf) failures.push({ arn: wanted, reason: 'MISSING' });
      else found.push(describe(task, asOf));
    }
    answer(response, 200, { tasks: found, failures });
  }
}

/** The task as ECS reported it at `asOf`. */
function describe(task: DescribedTask, asOf: number): Record<string, unknown> {
  const at = (time: number | undefined) => time !== undefined && time <= asOf;
  const lastStatus = at(task.stoppedAt)
    ? 'STOPPED'
    : at(task.stoppingAt)
      ? 'STOPPING'
      : at(task.runningAt)
        ? 'RUNNING'
        : 'PENDING';
  return {
    taskArn: task.arn,
    clusterArn: MODEL_CLUSTER_ARN,
    lastStatus,
    desiredStatus: at(task.stoppingAt) ? 'STOPPED' : 'RUNNING',
    ...(at(task.stoppingAt) && task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    containers: task.containers.map((container) => ({
      name: container.name,
      taskArn: task.arn,
      lastStatus: at(container.stoppedAt) ? 'STOPPED' : at(container.startedAt) ? 'RUNNING' : 'PENDING',
      ...(at(container.stoppedAt) && typeof container.exitCode === 'number' ? { exitCode: container.exitCode } : {}),
    })),
  };
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
}
