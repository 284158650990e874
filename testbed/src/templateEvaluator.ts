import type { Template } from '@ghost-ha/infra/parseTemplate';
import type { ParameterValues } from '@ghost-ha/infra/resolveConditions';

export interface TemplateEvaluatorOptions {
  /** The template as parsed (parameters' defaults are read from it). */
  template: Template;
  /** The same template with its conditions resolved (resource names are read from it). */
  resolved: Template;
  parameters: ParameterValues;
  /** Values of `Fn::ImportValue`, by export name. */
  imports?: Readonly<Record<string, string>>;
  region?: string;
  accountId?: string;
  stackName?: string;
  /** Values of resource attributes by `LogicalId.Attribute` (`Fn::GetAtt`, `${A.B}` in `Fn::Sub`). */
  attributes?: Readonly<Record<string, string>>;
  /** Who evaluates, for the error on a function it does not know (e.g. `the task model`). */
  reader?: string;
}

/**
 * An evaluator of a template's values as CloudFormation would compute them: `Ref` (parameters,
 * pseudo parameters; a resource becomes `<LogicalId>-local`), `Fn::Sub`, `Fn::ImportValue`,
 * `Fn::Join`, `Fn::Select`, `Fn::Split` and `Fn::GetAtt` (a local ARN). A parameter without value
 * and default, an unknown import or another function is an error, so a template that cannot be
 * deployed cannot be modelled either.
 */
export function templateEvaluator(options: TemplateEvaluatorOptions): (value: unknown) => unknown {
  const { template, resolved, parameters } = options;
  const region = options.region ?? 'us-east-1';
  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::AccountId': options.accountId ?? '123456789012',
    'AWS::Partition': 'aws',
    'AWS::StackName': options.stackName ?? 'ghost-ha-app',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const parameter = (name: string): string => {
    const known = pseudo[name];
    if (known !== undefined) return known;
    const value = parameters[name] ?? template.Parameters?.[name]?.Default;
    if (value !== undefined) return String(value);
    if (resolved.Resources[name]) return `${name}-local`;
    throw new Error(`Parameter '${name}' has no value and no default`);
  };
  const evaluate = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(evaluate);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first) {
      const [fn, args] = first;
      switch (fn) {
        case 'Ref': {
          const value = parameter(String(args));
          // A list parameter is a list where a function takes one (Fn::Select, Fn::Join).
          return template.Parameters?.[String(args)]?.Type === 'CommaDelimitedList' ? value.split(',') : value;
        }
        case 'Fn::Sub':
          return substitute(args, parameter, evaluate, options.attributes ?? {});
        case 'Fn::ImportValue': {
          const name = String(evaluate(args));
          const imported = options.imports?.[name];
          if (imported === undefined) throw new Error(`No value for the import '${name}' (pass it in imports)`);
          return imported;
        }
        case 'Fn::Join': {
          const [separator, items] = args as [string, unknown[]];
          return (evaluate(items) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Split': {
          const [separator, text] = args as [string, unknown];
          return String(evaluate(text)).split(separator);
        }
        case 'Fn::Select': {
          const [index, items] = args as [unknown, unknown];
          return (evaluate(items) as unknown[])[Number(evaluate(index))];
        }
        case 'Fn::GetAtt': {
          const [name, attribute] = args as [string, string];
          const known = options.attributes?.[`${name}.${attribute}`];
          if (known !== undefined) return known;
          return `arn:aws:local:${region}:${pseudo['AWS::AccountId']}:${name}/${attribute}`;
        }
      }
      if (fn.startsWith('Fn::')) throw new Error(`${options.reader ?? 'The model'} cannot evaluate ${fn}`);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, evaluate(item)]));
  };
  return evaluate;
}

function substitute(
  args: unknown,
  parameter: (name: string) => string,
  evaluate: (value: unknown) => unknown,
  attributes: Readonly<Record<string, string>>,
): string {
  const [text, variables] = typeof args === 'string' ? [args, {}] : (args as [string, Record<string, unknown>]);
  return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in variables) return String(evaluate(variables[name]));
    const attribute = attributes[name];
    if (attribute !== undefined) return attribute;
    if (name.includes('.')) return `${name.split('.')[0]}-local`;
    return parameter(name);
  });
}
