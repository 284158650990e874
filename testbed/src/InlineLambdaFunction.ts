import { runInNewContext } from 'node:vm';

/** Lambda@Edge's header form: lower-case name → [{ key, value }]. */
export type EdgeHeaders = Record<string, { key?: string; value: string }[]>;

export interface OriginResponseEvent {
  config: { distributionDomainName: string; distributionId: string; eventType: 'origin-response'; requestId: string };
  request: {
    clientIp: string;
    method: string;
    uri: string;
    querystring: string;
    headers: EdgeHeaders;
    origin: { s3: { domainName: string; path: string } } | { custom: { domainName: string; path: string } };
  };
  response: { status: string; statusDescription: string; headers: EdgeHeaders };
}

/** What the function returns: the response, changed, or a generated one with a body. */
export interface OriginResponseResult {
  status: string;
  statusDescription?: string;
  headers?: EdgeHeaders;
  body?: string;
  bodyEncoding?: 'text' | 'base64';
}

/**
 * A Node.js Lambda function whose source is inline in a template (`Code.ZipFile`, CommonJS
 * `exports.handler`), run in its own V8 context. Its only ways out are `fetch`, which the caller
 * provides (e.g. pointing the site's name at an emulator), and `console.log`, whose lines the caller
 * gets (what CloudWatch Logs would receive, EMF included); `process.env` holds its environment.
 *
 * As Lambda@Edge on the origin response (`originResponse`), CloudFront invokes it with
 * `{ Records: [{ cf }] }`: it gets the response's status and headers (not its body) and may change
 * them, or return a generated response with a body, which CloudFront then caches and serves.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html
 */
export class InlineLambdaFunction {
  readonly name: string;
  readonly #handler: (event: unknown) => Promise<unknown>;

  constructor(
    name: string,
    code: string,
    fetchImpl: typeof fetch,
    options: { log?: (line: string) => void; environment?: Readonly<Record<string, string>> } = {},
  ) {
    const log = options.log ?? (() => undefined);
    this.name = name;
    const module = { exports: {} as Record<string, unknown> };
    runInNewContext(code, {
      module,
      exports: module.exports,
      require: (id: string) => {
        throw new Error(`${name}: require('${id}') is not available here`);
      },
      console: { log: (line: unknown) => log(String(line)), warn: () => undefined, error: () => undefined },
      fetch: fetchImpl,
      AbortSignal,
      Date,
      process: { env: { ...options.environment } },
    });
    const handler = module.exports.handler;
    if (typeof handler !== 'function') throw new Error(`${name} exports no handler`);
    this.#handler = handler as (event: unknown) => Promise<unknown>;
  }

  /** Invokes the handler with `event`, as Lambda does. */
  invoke(event: unknown): Promise<unknown> {
    return this.#handler(structuredClone(event));
  }

  async originResponse(cf: OriginResponseEvent): Promise<OriginResponseResult> {
    const result = (await this.invoke({ Records: [{ cf }] })) as OriginResponseResult;
    if (result === null || typeof result !== 'object' || typeof result.status !== 'string') {
      throw new Error(`${this.name} returned no response`);
    }
    return result;
  }
}
