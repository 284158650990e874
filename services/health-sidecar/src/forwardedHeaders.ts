/**
 * Headers as Node keeps them on the wire, `[name, value, name, value, …]` (`rawHeaders`): the gate
 * copies these straight through, so Node never builds a header object for the request it forwards
 * nor for Ghost's answer.
 */
export type RawHeaders = readonly string[];

// Meaningful for one connection only (RFC 9110 §7.6.1): never forwarded in either direction.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/** Names of other lengths cannot be hop-by-hop: most headers are kept without lower-casing them. */
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((name) => name.length));

/**
 * The headers to send Ghost for a request from `client`: everything but hop-by-hop headers, with the
 * client appended to `X-Forwarded-For`, and `X-Forwarded-Proto`/`-Host` added unless the ALB (or
 * whoever is in front) already set them.
 */
export function forwardedHeaders(raw: RawHeaders, client: string | undefined): string[] {
  const headers = withoutHopByHop(raw);
  let lastForwardedFor = -1;
  let proto = false;
  let forwardedHost = false;
  let host: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    // Lengths first: only a name of the right length is lower-cased and compared.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') host = headers[i + 1];
        break;
      case 15:
        if (name.toLowerCase() === 'x-forwarded-for') lastForwardedFor = i;
        break;
      case 16:
        if (name.toLowerCase() === 'x-forwarded-host') forwardedHost = true;
        break;
      case 17:
        if (name.toLowerCase() === 'x-forwarded-proto') proto = true;
        break;
    }
  }
  if (client) {
    // Appended to the last X-Forwarded-For line: the lines joined give the same list.
    if (lastForwardedFor >= 0) headers[lastForwardedFor + 1] = `${headers[lastForwardedFor + 1]}, ${client}`;
    else headers.push('X-Forwarded-For', client);
  }
  if (!proto) headers.push('X-Forwarded-Proto', 'http');
  if (!forwardedHost && host !== undefined) headers.push('X-Forwarded-Host', host);
  return headers;
}

/** A copy without hop-by-hop headers, including those the `Connection` header names. */
export function withoutHopByHop(raw: RawHeaders): string[] {
  const listed = namedInConnection(raw);
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (listed !== undefined || HOP_BY_HOP_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    }
    kept.push(name, raw[i + 1] as string);
  }
  return kept;
}

/** True when the request carries a body (a length above zero, or chunks). */
export function hasBody(raw: RawHeaders): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return true;
    if (name.length === 14 && name.toLowerCase() === 'content-length' && raw[i + 1] !== '0') return true;
  }
  return false;
}

/** Extra header names the `Connection` header lists as hop-by-hop, lower-cased; undefined when none. */
function namedInConnection(raw: RawHeaders): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] as string).split(',')) {
      const lower = token.trim().toLowerCase();
      if (!lower || HOP_BY_HOP.has(lower)) continue;
      listed ??= new Set();
      listed.add(lower);
    }
  }
  return listed;
}
