import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';

export interface ListenerRulesProxyOptions {
  readonly region: string;
  readonly listenerArn: string;
  /** Where a target group's registered, healthy target answers; undefined: none is. */
  readonly targetOf: (targetGroupArn: string) => string | undefined;
}

/** `*` any run of characters, `?` one character (ALB rule values). */
function wildcard(pattern: string, flags: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

/**
 * An Application Load Balancer's listener as moto holds it: each request is matched against the
 * listener's rules in priority order, the default rule last, and answered by the first match's
 * action. Conditions: path-pattern (case-sensitive), http-header (name and values case-insensitive),
 * http-request-method and host-header; several values of a condition are OR, several conditions
 * AND (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html).
 * Any other condition fails the request, so a rule this proxy cannot judge is never taken for a miss.
 * Actions: fixed-response, and forward to a target group: 503 when it has no healthy target, 502
 * when the target refuses the connection (the troubleshooting page's HTTP 502 and 503 entries,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html).
 * Rules are read from moto on every request: a rule created or deleted takes effect at once.
 */
export class ListenerRulesProxy {
  readonly #server: Server;
  readonly #elbv2: ElasticLoadBalancingV2Client;
  readonly #options: ListenerRulesProxyOptions;
  /** Every answer: the rule's priority and the status. */
  readonly answered: { priority: string; method: string; path: string; status: number }[] = [];

  private constructor(options: ListenerRulesProxyOptions) {
    this.#options = options;
    this.#elbv2 = new ElasticLoadBalancingV2Client({ region: options.region });
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`listener proxy: ${(error as Error).message}`);
      });
    });
  }

  static async start(options: ListenerRulesProxyOptions): Promise<ListenerRulesProxy> {
    const proxy = new ListenerRulesProxy(options);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#elbv2.destroy();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { Rules = [] } = await this.#elbv2.send(new DescribeRulesCommand({ ListenerArn: this.#options.listenerArn }));
    const ordered = [...Rules].sort((a, b) => priority(a) - priority(b));
    const rule = ordered.find((r) => (r.Conditions ?? []).every((c) => matches(c, req)));
    const action = rule?.Actions?.find((a) => a.Type === 'fixed-response' || a.Type === 'forward');
    const record = (status: number) =>
      this.answered.push({ priority: rule?.Priority ?? 'none', method: req.method ?? '', path: req.url ?? '', status });
    const answer = (status: number, type: string, body: string) => {
      record(status);
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (!action) return answer(503, 'text/plain', 'no rule matched');
    if (action.Type === 'fixed-response') {
      const fixed = action.FixedResponseConfig;
      return answer(Number(fixed?.StatusCode ?? 503), fixed?.ContentType ?? 'text/plain', fixed?.MessageBody ?? '');
    }
    const group = action.TargetGroupArn ?? action.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn ?? '';
    const target = this.#options.targetOf(group);
    if (!target)
      return answer(503, 'text/html', '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
    await new Promise<void>((resolve) => {
      const upstream = request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (reply) => {
          record(reply.statusCode ?? 0);
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res).on('finish', resolve);
        },
      );
      upstream.on('error', () => {
        answer(502, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>');
        resolve();
      });
      req.pipe(upstream);
    });
  }
}

function priority(rule: Rule): number {
  return rule.IsDefault || rule.Priority === 'default' ? Number.MAX_SAFE_INTEGER : Number(rule.Priority);
}

function matches(condition: RuleCondition, req: IncomingMessage): boolean {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  switch (condition.Field) {
    case 'path-pattern':
      return (condition.PathPatternConfig?.Values ?? condition.Values ?? []).some((v) => wildcard(v, '').test(path));
    case 'http-header': {
      const name = condition.HttpHeaderConfig?.HttpHeaderName?.toLowerCase() ?? '';
      const sent = req.headers[name];
      const values = Array.isArray(sent) ? sent : sent === undefined ? [] : [sent];
      return (condition.HttpHeaderConfig?.Values ?? []).some((v) => values.some((s) => wildcard(v, 'i').test(s)));
    }
    case 'http-request-method':
      return (condition.HttpRequestMethodConfig?.Values ?? []).includes(req.method ?? '');
    case 'host-header': {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      return (condition.HostHeaderConfig?.Values ?? condition.Values ?? []).some((v) => wildcard(v, 'i').test(host));
    }
    default:
      throw new Error(`the listener proxy does not judge ${condition.Field} conditions`);
  }
}
