// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation !Sub strings are substituted here.
/**
 * A small, strict reading of IAM policy evaluation for the tests that ask "may this role do that?"
 * of the templates: an explicit Deny in any statement wins, else an Allow is needed
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 * Action and resource patterns use `*` and `?`; actions compare case-insensitively. A condition
 * operator it does not know throws, so a test cannot pass by ignoring a condition.
 */

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface PolicyRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys and their values in the request; a key absent here is absent from the request. */
  readonly context?: Readonly<Record<string, string>>;
}

/** True when the statements together allow the request (an Allow matches, no Deny does). */
export function isAllowed(statements: readonly PolicyStatement[], request: PolicyRequest): boolean {
  const matching = statements.filter((statement) => matches(statement, request));
  if (matching.some((statement) => statement.Effect === 'Deny')) return false;
  return matching.some((statement) => statement.Effect === 'Allow');
}

/** True when some statement denies the request explicitly. */
export function isDenied(statements: readonly PolicyStatement[], request: PolicyRequest): boolean {
  return statements.some((statement) => statement.Effect === 'Deny' && matches(statement, request));
}

function matches(statement: PolicyStatement, request: PolicyRequest): boolean {
  const action = statement.Action
    ? list(statement.Action).some((pattern) => like(pattern, request.action, true))
    : !list(statement.NotAction ?? []).some((pattern) => like(pattern, request.action, true));
  if (!action) return false;
  const resource = statement.Resource
    ? list(statement.Resource).some((pattern) => like(pattern, request.resource, false))
    : !list(statement.NotResource ?? []).some((pattern) => like(pattern, request.resource, false));
  if (!resource) return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => condition(operator, request.context?.[key], list(expected))),
  );
}

function condition(operator: string, actual: string | undefined, expected: readonly string[]): boolean {
  const ifExists = operator.endsWith('IfExists');
  const base = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
  if (base === 'Null') return expected.some((value) => (value === 'true') === (actual === undefined));
  if (actual === undefined) return ifExists;
  switch (base) {
    case 'StringEquals':
    case 'ArnEquals':
    case 'Bool':
      return expected.includes(actual);
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return !expected.includes(actual);
    case 'StringLike':
    case 'ArnLike':
      return expected.some((pattern) => like(pattern, actual, false));
    case 'StringNotLike':
    case 'ArnNotLike':
      return !expected.some((pattern) => like(pattern, actual, false));
    default:
      throw new Error(`condition operator ${operator} is not modelled`);
  }
}

function like(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

function list(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map((item) => {
    if (typeof item !== 'string') throw new Error(`unresolved policy value ${JSON.stringify(item)}`);
    return item;
  });
}

/**
 * Replaces `Fn::Sub`, `Ref`, `Fn::GetAtt` and `Fn::ImportValue` by strings: `${Name}` and `Ref`
 * from `names` (parameters, pseudo parameters, resources' `Ref`), `${Resource.Attribute}` and
 * `Fn::GetAtt` from `names['Resource.Attribute']`, imports as `import:<export name>`. A name it
 * cannot resolve throws, unless `lenient` (then it becomes `<name>`, which matches no real ARN).
 */
export function substitute(value: unknown, names: Readonly<Record<string, string>>, lenient = false): unknown {
  const lookup = (name: string): string => {
    const found = names[name];
    if (found !== undefined) return found;
    if (lenient) return `<${name}>`;
    throw new Error(`no value for \${${name}}`);
  };
  const sub = (text: string, variables: Readonly<Record<string, string>> = {}): string =>
    text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => variables[name] ?? lookup(name));
  if (Array.isArray(value)) return value.map((item) => substitute(item, names, lenient));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [fn, argument] = first;
    if (fn === 'Ref') return lookup(String(argument));
    if (fn === 'Fn::GetAtt') return lookup((argument as string[]).join('.'));
    if (fn === 'Fn::ImportValue') return `import:${String(substitute(argument, names, lenient))}`;
    if (fn === 'Fn::Sub') {
      if (typeof argument === 'string') return sub(argument);
      const [text, variables] = argument as [string, Record<string, unknown>];
      const resolved = Object.fromEntries(
        Object.entries(variables).map(([name, item]) => [name, String(substitute(item, names, lenient))]),
      );
      return sub(text, resolved);
    }
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, substitute(item, names, lenient)]));
}
