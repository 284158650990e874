import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

// Meaningful for one connection only (RFC 9110 §7.6.1): never forwarded in either direction.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * Other ways a client could name "its" address or host to something behind the gate. Nothing in
 * front of the gate sets them for Ghost (CloudFront adds `CloudFront-Viewer-Address` only when an
 * origin request policy asks for it, and the edge's policies do not), so whatever arrives under
 * these names came from the viewer and is dropped.
 */
const CLIENT_CHOSEN = ['forwarded', 'x-real-ip', 'true-client-ip', 'cloudfront-viewer-address', 'x-forwarded-port'];

/** What the gate tells Ghost about every request, whatever the request itself says. */
export interface ForwardingPolicy {
  /** The site's host (of `SITE_URL`, or `GHOST_HOST`): sent as `Host` and `X-Forwarded-Host`. */
  readonly host: string;
  /** The site's scheme: sent as `X-Forwarded-Proto`. */
  readonly proto: 'http' | 'https';
  /**
   * How many proxies in front of the gate append to `X-Forwarded-For` (CloudFront appends the
   * viewer's address, the ALB the address it was reached from, i.e. CloudFront's: 2). The client is
   * the entry that many places from the end; anything further left was written by the client.
   */
  readonly trustedProxies: number;
}

/**
 * The headers to send Ghost for a request that reached the gate from `peer`: everything but
 * hop-by-hop and client-chosen headers, with `X-Forwarded-For` replaced by the one client address
 * the gate can trust (see `clientAddress`), and `Host`, `X-Forwarded-Host` and `X-Forwarded-Proto`
 * set to the site's. Ghost trusts the proxy chain (Express `trust proxy`), so `X-Forwarded-For` is
 * the `req.ip` its brute-force limits on sign-in, password reset and magic links are keyed by.
 */
export function forwardedHeaders(
  headers: IncomingHttpHeaders,
  peer: string | undefined,
  policy: ForwardingPolicy,
): OutgoingHttpHeaders {
  const forwarded = withoutHopByHop(headers);
  for (const name of CLIENT_CHOSEN) delete forwarded[name];
  const client = clientAddress(headers['x-forwarded-for'], peer, policy.trustedProxies);
  if (client) forwarded['x-forwarded-for'] = client;
  else delete forwarded['x-forwarded-for'];
  forwarded.host = policy.host;
  forwarded['x-forwarded-host'] = policy.host;
  forwarded['x-forwarded-proto'] = policy.proto;
  return forwarded;
}

/**
 * The client's address: the `X-Forwarded-For` entry written by the first trusted proxy
 * (`trustedProxies` from the end), when it is an IP address; otherwise (fewer entries than trusted
 * proxies, i.e. the request did not come through all of them, or 0 trusted proxies) the address the
 * gate was reached from. Never an entry left of the trusted ones: the client wrote those.
 *
 * CloudFront appends the viewer's address to any `X-Forwarded-For` the viewer sent
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html#RequestCustomIPAddresses),
 * and an ALB in its default `append` mode appends the address of the connection it received, here
 * CloudFront's (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html).
 */
export function clientAddress(
  xForwardedFor: string | string[] | undefined,
  peer: string | undefined,
  trustedProxies: number,
): string | undefined {
  if (trustedProxies > 0 && xForwardedFor !== undefined) {
    const entries = (Array.isArray(xForwardedFor) ? xForwardedFor.join(',') : xForwardedFor)
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    const entry = entries.length >= trustedProxies ? entries[entries.length - trustedProxies] : undefined;
    if (entry !== undefined && isIP(entry) !== 0) return entry;
  }
  return peer;
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
