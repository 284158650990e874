import { loadTemplate, type Template } from '@ghost-ha/infra/parseTemplate';
import { type ParameterValues, resolveConditions } from '@ghost-ha/infra/resolveConditions';
import { templateEvaluator } from './templateEvaluator.js';

// biome-ignore lint/suspicious/noExplicitAny: template JSON; each field is converted below.
type Json = any;

/** Which viewer values a policy passes on: none, all, all but some, or a list (names lower case). */
export type ValueSelection =
  | { kind: 'none' }
  | { kind: 'all' }
  | { kind: 'allExcept'; names: readonly string[] }
  | { kind: 'only'; names: readonly string[] };

/** A cache policy: TTL bounds (seconds) and the viewer values in the cache key (which also reach the origin). */
export interface EdgeCachePolicy {
  name: string;
  minTtl: number;
  defaultTtl: number;
  maxTtl: number;
  headers: ValueSelection;
  cookies: ValueSelection;
  queryStrings: ValueSelection;
}

/** An origin request policy: viewer values sent to the origin on top of the cache key's. */
export interface EdgeOriginRequestPolicy {
  name: string;
  headers: ValueSelection;
  cookies: ValueSelection;
  queryStrings: ValueSelection;
}

export interface EdgeOrigin {
  id: string;
  kind: 'custom' | 's3';
  domainName: string;
  originPath: string;
  connectionAttempts: number;
  connectionTimeoutSeconds: number;
  /** OriginReadTimeout (custom origins; S3 origins have CloudFront's default, 30 s). */
  readTimeoutSeconds: number;
  customHeaders: Readonly<Record<string, string>>;
  /** Signed by an origin access control (S3). */
  signed: boolean;
}

export interface EdgeOriginGroup {
  id: string;
  members: readonly [string, string];
  failoverStatusCodes: readonly number[];
}

export interface EdgeBehavior {
  /** `*` for the default behavior. */
  pathPattern: string;
  targetOriginId: string;
  allowedMethods: readonly string[];
  cachedMethods: readonly string[];
  cachePolicy: EdgeCachePolicy;
  originRequestPolicy: EdgeOriginRequestPolicy | undefined;
  /** The CloudFront Function (cloudfront-js-2.0 source) run on the viewer request, if any. */
  viewerRequestFunction: { name: string; code: string } | undefined;
  /** The Lambda@Edge function (Node.js inline source) run on the origin response, if any. */
  originResponseFunction: { name: string; code: string } | undefined;
}

/** What the emulator needs of the distribution in edge.yaml, every value as the template computes it. */
export interface EdgeSettings {
  /** In CloudFront's order: the path-pattern behaviors as listed, then the default one. */
  behaviors: readonly EdgeBehavior[];
  origins: ReadonlyMap<string, EdgeOrigin>;
  groups: ReadonlyMap<string, EdgeOriginGroup>;
  /** ErrorCachingMinTTL per status code from CustomErrorResponses (seconds). */
  errorCachingMinTtl: ReadonlyMap<number, number>;
  /** The distribution's id as the bucket policy's `AWS:SourceArn` names it. */
  distributionArn: string;
  /** The stack's parameter values the settings were read with (given, else the defaults). */
  parameters: Readonly<Record<string, string>>;
}

// AWS managed policies by id.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html
const MANAGED_CACHE_POLICIES: Record<string, EdgeCachePolicy> = {
  '4135ea2d-6df8-44a3-9df3-4b5a84be39ad': {
    name: 'Managed-CachingDisabled',
    minTtl: 0,
    defaultTtl: 0,
    maxTtl: 0,
    headers: { kind: 'none' },
    cookies: { kind: 'none' },
    queryStrings: { kind: 'none' },
  },
};
const MANAGED_ORIGIN_REQUEST_POLICIES: Record<string, EdgeOriginRequestPolicy> = {
  '216adef6-5c7f-47e4-b989-5492eafa07d3': {
    name: 'Managed-AllViewer',
    headers: { kind: 'all' },
    cookies: { kind: 'all' },
    queryStrings: { kind: 'all' },
  },
};

/** Parameters the edge stack needs and has no default for: test values. */
export const EDGE_TEST_PARAMETERS: ParameterValues = {
  Aliases: 'blog.example.com',
  ViewerCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0000-1111',
  PrimaryRegion: 'eu-west-1',
  PrimaryOriginDomain: 'origin-eu-west-1.blog.example.com',
  SecondaryRegion: 'eu-central-1',
  SecondaryOriginDomain: 'origin-eu-central-1.blog.example.com',
};

export interface EdgeSettingsSource {
  /** The parsed template; default `infra/cloudformation/edge.yaml`. */
  template?: Template;
  /** Parameters on top of EDGE_TEST_PARAMETERS and the template's defaults. */
  parameters?: ParameterValues;
  accountId?: string;
}

/** Reads the distribution, its policies and its functions out of the edge template. */
export function loadEdgeSettings(source: EdgeSettingsSource = {}): EdgeSettings {
  const template = source.template ?? loadTemplate('edge');
  const parameters = { ...EDGE_TEST_PARAMETERS, ...source.parameters };
  const resolved = resolveConditions(template, parameters);
  const evaluate = templateEvaluator({
    template,
    resolved,
    parameters,
    accountId: source.accountId,
    region: 'us-east-1',
    stackName: 'ghost-ha-edge',
    reader: 'The edge model',
  });
  const distribution = Object.entries(resolved.Resources).find(([, r]) => r.Type === 'AWS::CloudFront::Distribution');
  if (!distribution) throw new Error('The template has no AWS::CloudFront::Distribution');
  const raw = distribution[1].Properties?.DistributionConfig as Json;
  const resource = (id: string, type: string): Json => {
    const found = resolved.Resources[id];
    if (found?.Type !== type) throw new Error(`${id} is not a ${type}`);
    return found.Properties;
  };
  const cachePolicy = (id: Json): EdgeCachePolicy => {
    if (typeof id === 'string') {
      const managed = MANAGED_CACHE_POLICIES[id];
      if (!managed) throw new Error(`Unknown managed cache policy ${id}`);
      return managed;
    }
    const config = evaluate(resource(String(id?.Ref), 'AWS::CloudFront::CachePolicy').CachePolicyConfig) as Json;
    const key = config.ParametersInCacheKeyAndForwardedToOrigin ?? {};
    return {
      name: String(config.Name),
      minTtl: Number(config.MinTTL),
      defaultTtl: Number(config.DefaultTTL ?? 86400),
      maxTtl: Number(config.MaxTTL ?? 31536000),
      headers: selection(key.HeadersConfig?.HeaderBehavior, key.HeadersConfig?.Headers),
      cookies: selection(key.CookiesConfig?.CookieBehavior, key.CookiesConfig?.Cookies),
      queryStrings: selection(key.QueryStringsConfig?.QueryStringBehavior, key.QueryStringsConfig?.QueryStrings),
    };
  };
  const originRequestPolicy = (id: Json): EdgeOriginRequestPolicy | undefined => {
    if (id === undefined) return undefined;
    if (typeof id === 'string') {
      const managed = MANAGED_ORIGIN_REQUEST_POLICIES[id];
      if (!managed) throw new Error(`Unknown managed origin request policy ${id}`);
      return managed;
    }
    const config = evaluate(
      resource(String(id?.Ref), 'AWS::CloudFront::OriginRequestPolicy').OriginRequestPolicyConfig,
    ) as Json;
    return {
      name: String(config.Name),
      headers: selection(config.HeadersConfig?.HeaderBehavior, config.HeadersConfig?.Headers),
      cookies: selection(config.CookiesConfig?.CookieBehavior, config.CookiesConfig?.Cookies),
      queryStrings: selection(config.QueryStringsConfig?.QueryStringBehavior, config.QueryStringsConfig?.QueryStrings),
    };
  };
  const viewerRequestFunction = (associations: Json): EdgeBehavior['viewerRequestFunction'] => {
    const association = (associations ?? []).find((a: Json) => a.EventType === 'viewer-request');
    if (!association) return undefined;
    const target = association.FunctionARN?.['Fn::GetAtt']?.[0];
    const properties = resource(String(target), 'AWS::CloudFront::Function');
    if (properties.FunctionConfig?.Runtime !== 'cloudfront-js-2.0') {
      throw new Error(`${target}: the edge model runs cloudfront-js-2.0 functions only`);
    }
    return { name: String(evaluate(properties.Name)), code: String(evaluate(properties.FunctionCode)) };
  };
  const originResponseFunction = (associations: Json): EdgeBehavior['originResponseFunction'] => {
    const association = (associations ?? []).find((a: Json) => a.EventType === 'origin-response');
    if (!association) return undefined;
    const versionId = String(association.LambdaFunctionARN?.Ref);
    const functionId = String(resource(versionId, 'AWS::Lambda::Version').FunctionName?.Ref);
    const properties = resource(functionId, 'AWS::Lambda::Function');
    if (!String(properties.Runtime).startsWith('nodejs') || properties.Handler !== 'index.handler') {
      throw new Error(`${functionId}: the edge model runs inline Node.js functions with index.handler only`);
    }
    return { name: functionId, code: String(evaluate(properties.Code?.ZipFile)) };
  };
  const behavior = (entry: Json, pathPattern: string): EdgeBehavior => ({
    pathPattern,
    targetOriginId: String(evaluate(entry.TargetOriginId)),
    allowedMethods: entry.AllowedMethods ?? ['GET', 'HEAD'],
    cachedMethods: entry.CachedMethods ?? ['GET', 'HEAD'],
    cachePolicy: cachePolicy(entry.CachePolicyId),
    originRequestPolicy: originRequestPolicy(entry.OriginRequestPolicyId),
    viewerRequestFunction: viewerRequestFunction(entry.FunctionAssociations),
    originResponseFunction: originResponseFunction(entry.LambdaFunctionAssociations),
  });
  const config = { ...raw, Origins: evaluate(raw.Origins), OriginGroups: evaluate(raw.OriginGroups) } as Json;
  const origins = new Map<string, EdgeOrigin>(
    (config.Origins as Json[]).map((o) => {
      const custom = o.CustomOriginConfig;
      return [
        String(o.Id),
        {
          id: String(o.Id),
          kind: custom ? 'custom' : 's3',
          domainName: String(o.DomainName),
          originPath: String(o.OriginPath ?? ''),
          // Defaults: 3 attempts of 10 s, read timeout 30 s.
          // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html
          connectionAttempts: Number(o.ConnectionAttempts ?? 3),
          connectionTimeoutSeconds: Number(o.ConnectionTimeout ?? 10),
          readTimeoutSeconds: Number(custom?.OriginReadTimeout ?? 30),
          customHeaders: Object.fromEntries(
            (o.OriginCustomHeaders ?? []).map((h: Json) => [String(h.HeaderName).toLowerCase(), String(h.HeaderValue)]),
          ),
          signed: o.OriginAccessControlId !== undefined,
        },
      ];
    }),
  );
  const groups = new Map<string, EdgeOriginGroup>(
    ((config.OriginGroups?.Items ?? []) as Json[]).map((g) => {
      const [first, second] = (g.Members.Items as Json[]).map((m) => String(m.OriginId));
      if (!first || !second) throw new Error(`Origin group ${g.Id} needs two members`);
      return [
        String(g.Id),
        { id: String(g.Id), members: [first, second], failoverStatusCodes: g.FailoverCriteria.StatusCodes.Items },
      ];
    }),
  );
  const behaviors = [
    ...((raw.CacheBehaviors ?? []) as Json[]).map((b) => behavior(b, String(b.PathPattern))),
    behavior(raw.DefaultCacheBehavior, '*'),
  ];
  for (const b of behaviors) {
    if (!origins.has(b.targetOriginId) && !groups.has(b.targetOriginId)) {
      throw new Error(`Behavior ${b.pathPattern} targets the unknown origin ${b.targetOriginId}`);
    }
  }
  const accountId = source.accountId ?? '123456789012';
  return {
    behaviors,
    origins,
    groups,
    errorCachingMinTtl: new Map(
      ((raw.CustomErrorResponses ?? []) as Json[])
        .filter((e) => e.ErrorCachingMinTTL !== undefined)
        .map((e) => [Number(e.ErrorCode), Number(e.ErrorCachingMinTTL)]),
    ),
    distributionArn: `arn:aws:cloudfront::${accountId}:distribution/${EDGE_TEST_DISTRIBUTION_ID}`,
    parameters: Object.fromEntries(
      Object.entries(template.Parameters ?? {}).map(([name, p]) => [name, String(parameters[name] ?? p.Default ?? '')]),
    ),
  };
}

/** The distribution id the emulated bucket policy is granted to. */
export const EDGE_TEST_DISTRIBUTION_ID = 'E2QWRUHAPOMQZL';

function selection(behavior: unknown, names: unknown): ValueSelection {
  const list = ((names as unknown[] | undefined) ?? []).map((n) => String(n).toLowerCase());
  switch (behavior) {
    case undefined:
    case 'none':
      return { kind: 'none' };
    case 'all':
    case 'allViewer':
      return { kind: 'all' };
    case 'whitelist':
      return { kind: 'only', names: list };
    case 'allExcept':
      return { kind: 'allExcept', names: list };
    case 'allViewerAndWhitelistCloudFront':
      return { kind: 'all' };
    default:
      throw new Error(`Unknown policy behavior ${String(behavior)}`);
  }
}
