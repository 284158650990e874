import { request } from 'node:http';

/**
 * The status code of a GET (body read and dropped), or the error's code, on a connection of its
 * own; settled by its own timer after `timeoutMs` whatever the socket does, so a hung server never
 * stalls a prober (`'timeout'`).
 */
export function httpStatus(
  url: string,
  options: { headers?: Record<string, string>; timeoutMs: number },
): Promise<number | string> {
  return new Promise((resolve) => {
    const outgoing = request(url, { headers: options.headers, agent: false }, (incoming) => {
      incoming.resume();
      incoming.once('end', () => done(incoming.statusCode ?? 'no status'));
      incoming.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
    });
    const timer = setTimeout(() => done('timeout'), options.timeoutMs);
    function done(result: number | string): void {
      clearTimeout(timer);
      outgoing.destroy();
      resolve(result);
    }
    outgoing.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
    outgoing.end();
  });
}
