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
 * A Lambda@Edge function (Node.js, inline CommonJS source as the template's `ZipFile`) run on the
 * origin response, as CloudFront invokes it: `handler({ Records: [{ cf }] })`. It gets the
 * response's status and headers (not its body) and may change them, or return a generated response
 * with a body, which CloudFront then caches and serves.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html
 * Run here in its own V8 context; its only way out is `fetch`, which the caller provides (the
 * emulator points the distribution's domain name at itself).
 */
export class LambdaEdgeFunction {
  readonly name: string;
  readonly #handler: (event: unknown) => Promise<OriginResponseResult>;

  constructor(name: string, code: string, fetchImpl: typeof fetch) {
    this.name = name;
    const module = { exports: {} as Record<string, unknown> };
    runInNewContext(code, {
      module,
      exports: module.exports,
      require: (id: string) => {
        throw new Error(`${name}: require('${id}') is not available here`);
      },
      console: { log: () => undefined, warn: () => undefined, error: () => undefined },
      fetch: fetchImpl,
      AbortSignal,
    });
    const handler = module.exports.handler;
    if (typeof handler !== 'function') throw new Error(`${name} exports no handler`);
    this.#handler = handler as (event: unknown) => Promise<OriginResponseResult>;
  }

  async run(cf: OriginResponseEvent): Promise<OriginResponseResult> {
    const result = await this.#handler({ Records: [{ cf: structuredClone(cf) }] });
    if (result === null || typeof result !== 'object' || typeof result.status !== 'string') {
      throw new Error(`${this.name} returned no response`);
    }
    return result;
  }
}
