import { type IncomingHttpHeaders, request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with full control over headers (fetch cannot set Host). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A request whose body is sent in two parts with a pause between, so it is still in flight while the
 * test does something else. `finish()` sends the rest and resolves with the response.
 */
export function slowRequest(
  url: string,
  options: { method: string; headers: Record<string, string>; firstPart: string; rest: string },
): { finish: () => Promise<RawResponse> } {
  let settle: { resolve: (r: RawResponse) => void; reject: (e: unknown) => void } | undefined;
  const response = new Promise<RawResponse>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const req = request(url, { method: options.method, headers: options.headers, agent: false }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () =>
      settle?.resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
    );
    res.on('error', (error) => settle?.reject(error));
  });
  req.on('error', (error) => settle?.reject(error));
  req.write(options.firstPart);
  return {
    finish: () => {
      req.end(options.rest);
      return response;
    },
  };
}
