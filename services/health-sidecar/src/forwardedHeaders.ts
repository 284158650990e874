import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// Meaningful for one connection only (RFC 9110 §7.6.1): never forwarded in either direction.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * The headers to send Ghost for a request from `client`: everything but hop-by-hop headers, with the
 * client appended to `X-Forwarded-For`, and `X-Forwarded-Proto`/`-Host` added unless the ALB (or
 * whoever is in front) already set them.
 */
export function forwardedHeaders(headers: IncomingHttpHeaders, client: string | undefined): OutgoingHttpHeaders {
  const forwarded = withoutHopByHop(headers);
  if (client) {
    const previous = headers['x-forwarded-for'];
    forwarded['x-forwarded-for'] = previous ? `${previous}, ${client}` : client;
  }
  forwarded['x-forwarded-proto'] ??= 'http';
  if (headers.host) forwarded['x-forwarded-host'] ??= headers.host;
  return forwarded;
}

/** A copy without hop-by-hop headers, including those the `Connection` header names. */
export function withoutHopByHop(source: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...source };
  const listed = source.connection;
  for (const name of HOP_BY_HOP) delete headers[name];
  if (listed) {
    for (const name of listed.split(',')) delete headers[name.trim().toLowerCase()];
  }
  return headers;
}
