import { runInNewContext } from 'node:vm';

type Values = Record<string, { value: string }>;

/** A viewer request as CloudFront Functions see it (names of headers and cookies lower case). */
export interface FunctionRequest {
  method: string;
  uri: string;
  querystring: Values;
  headers: Values;
  cookies: Values;
}

/** A response a viewer-request function generates instead of forwarding the request. */
export interface FunctionResponse {
  statusCode: number;
  statusDescription?: string;
  headers?: Values;
}

/**
 * A CloudFront Function (cloudfront-js-2.0) run on the viewer request, as CloudFront runs it: the
 * source's `handler(event)` gets `{ version, context, viewer, request }` and returns the request
 * (possibly changed: uri, querystring, headers) or a response, which CloudFront sends without
 * looking in its cache or asking an origin. Run here in a fresh V8 context with no Node APIs
 * (CloudFront Functions have no network, file system or timers), within a time limit.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
 */
export class CloudFrontFunction {
  readonly name: string;
  readonly #code: string;

  constructor(name: string, code: string) {
    this.name = name;
    this.#code = code;
  }

  run(request: FunctionRequest, distributionDomainName: string): FunctionRequest | FunctionResponse {
    const event = {
      version: '1.0',
      context: { eventType: 'viewer-request', distributionDomainName },
      viewer: { ip: '127.0.0.1' },
      request: structuredClone(request),
    };
    const result = runInNewContext(`${this.#code}\n;handler(__event);`, { __event: event }, { timeout: 1_000 }) as
      | FunctionRequest
      | FunctionResponse;
    if (result === null || typeof result !== 'object') throw new Error(`${this.name} returned no request or response`);
    return result;
  }
}

export function isFunctionResponse(value: FunctionRequest | FunctionResponse): value is FunctionResponse {
  return 'statusCode' in value;
}
