import { loadTemplate, type Template } from '@ghost-ha/infra/parseTemplate';
import { type ParameterValues, resolveConditions } from '@ghost-ha/infra/resolveConditions';
import { EDGE_TEST_DISTRIBUTION_ID } from './loadEdgeSettings.js';
import { templateEvaluator } from './templateEvaluator.js';

// biome-ignore lint/suspicious/noExplicitAny: policy JSON from the template.
type Json = any;

/** What a request to S3 is evaluated with: who asks, over what, for what. */
export interface S3RequestContext {
  /** The service principal, e.g. `cloudfront.amazonaws.com`. */
  service: string;
  /** `AWS:SourceArn`: the distribution for origin access control. */
  sourceArn: string;
  secureTransport: boolean;
}

/**
 * The mirror bucket's policy from data.yaml, evaluated as IAM does for a service principal: an
 * explicit Deny wins, otherwise some Allow must match action, resource and every condition; a
 * condition on a key the request does not carry does not match.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
export class MirrorBucketPolicy {
  readonly bucketName: string;
  readonly #statements: Json[];

  private constructor(bucketName: string, statements: Json[]) {
    this.bucketName = bucketName;
    this.#statements = statements;
  }

  /** The policy of the mirror bucket in `region` as the data stack creates it, read by `distributionId`. */
  static load(
    options: {
      region?: string;
      accountId?: string;
      template?: Template;
      parameters?: ParameterValues;
      distributionId?: string;
    } = {},
  ): MirrorBucketPolicy {
    const template = options.template ?? loadTemplate('data');
    const region = options.region ?? 'eu-central-1';
    const accountId = options.accountId ?? '123456789012';
    const parameters = {
      Role: 'secondary',
      MirrorDistributionId: options.distributionId ?? EDGE_TEST_DISTRIBUTION_ID,
      ...options.parameters,
    };
    const resolved = resolveConditions(template, { ...parameters, 'AWS::Region': region });
    const evaluateName = templateEvaluator({
      template,
      resolved,
      parameters,
      region,
      accountId,
      reader: 'The bucket model',
    });
    const bucket = resolved.Resources.MirrorBucket;
    const policy = resolved.Resources.MirrorBucketPolicy;
    if (!bucket || !policy) throw new Error('The data template has no MirrorBucket and MirrorBucketPolicy');
    const bucketName = String(evaluateName(bucket.Properties?.BucketName));
    const evaluate = templateEvaluator({
      template,
      resolved,
      parameters,
      region,
      accountId,
      attributes: { 'MirrorBucket.Arn': `arn:aws:s3:::${bucketName}` },
      reader: 'The bucket model',
    });
    const document = evaluate(policy.Properties?.PolicyDocument) as Json;
    return new MirrorBucketPolicy(bucketName, document.Statement ?? []);
  }

  /** Whether the policy lets `context` do `action` on `resource` (an S3 ARN). */
  allows(action: string, resource: string, context: S3RequestContext): boolean {
    const matching = this.#statements.filter(
      (s) =>
        principalMatches(s.Principal, context.service) &&
        list(s.Action).some((a) => wildcard(a, action)) &&
        list(s.Resource).some((r) => wildcard(r, resource)) &&
        conditionsMatch(s.Condition, context),
    );
    if (matching.some((s) => s.Effect === 'Deny')) return false;
    return matching.some((s) => s.Effect === 'Allow');
  }
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function principalMatches(principal: Json, service: string): boolean {
  if (principal === '*') return true;
  return list(principal?.Service).includes(service) || list(principal?.AWS).includes('*');
}

function wildcard(pattern: string, value: string): boolean {
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${expression}$`, 'i').test(value);
}

function conditionsMatch(condition: Json, context: S3RequestContext): boolean {
  if (!condition) return true;
  const keys: Record<string, string> = {
    'aws:sourcearn': context.sourceArn,
    'aws:securetransport': String(context.secureTransport),
  };
  return Object.entries(condition as Record<string, Record<string, unknown>>).every(([operator, tests]) =>
    Object.entries(tests).every(([key, expected]) => {
      const actual = keys[key.toLowerCase()];
      if (actual === undefined) return false;
      const values = list(expected);
      switch (operator) {
        case 'StringEquals':
        case 'ArnEquals':
        case 'Bool':
          return values.includes(actual);
        case 'StringLike':
        case 'ArnLike':
          return values.some((v) => wildcard(v, actual));
        default:
          throw new Error(`The bucket model does not know the condition operator ${operator}`);
      }
    }),
  );
}
