import type { Template } from './parseTemplate.js';

export type ParameterValues = Readonly<Record<string, string | number>>;

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * The template as CloudFormation would see it for these parameter values: conditions evaluated,
 * `Fn::If` replaced by the chosen branch, `AWS::NoValue` removed, resources and outputs whose
 * condition is false dropped. Other intrinsic functions are left as they are.
 */
export function resolveConditions(template: Template, values: ParameterValues = {}): Template {
  const parameter = (name: string): string => {
    const value = values[name] ?? template.Parameters?.[name]?.Default;
    if (value === undefined) throw new Error(`Parameter '${name}' has no value and no default`);
    return String(value);
  };
  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const definition = template.Conditions?.[name];
    if (definition === undefined) throw new Error(`Unknown condition '${name}'`);
    const result = evaluate(definition);
    conditions.set(name, result);
    return result;
  };
  const scalar = (value: unknown): string => {
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    const ref = (value as { Ref?: string }).Ref;
    if (ref === 'AWS::Region') return String(values['AWS::Region'] ?? 'us-east-1');
    if (typeof ref === 'string') return parameter(ref);
    throw new Error(`Cannot evaluate ${JSON.stringify(value)} in a condition`);
  };
  function evaluate(expression: unknown): boolean {
    const [[fn, args] = []] = Object.entries(expression as Record<string, unknown>);
    const list = args as unknown[];
    switch (fn) {
      case 'Fn::Equals':
        return scalar(list[0]) === scalar(list[1]);
      case 'Fn::Not':
        return !evaluate(list[0]);
      case 'Fn::And':
        return list.every(evaluate);
      case 'Fn::Or':
        return list.some(evaluate);
      case 'Condition':
        return condition(args as string);
      default:
        throw new Error(`Unsupported condition function '${fn}'`);
    }
  }
  function walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(walk).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === 'Ref' && entries[0][1] === 'AWS::NoValue') return NO_VALUE;
    if (entries.length === 1 && entries[0]?.[0] === 'Fn::If') {
      const [name, whenTrue, whenFalse] = entries[0][1] as [string, unknown, unknown];
      return walk(condition(name) ? whenTrue : whenFalse);
    }
    const result: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = walk(item);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }
  const kept = <T extends { Condition?: string }>(items: Record<string, T> | undefined) =>
    Object.fromEntries(
      Object.entries(items ?? {})
        .filter(([, item]) => item.Condition === undefined || condition(item.Condition))
        .map(([key, item]) => [key, walk(item) as T]),
    );
  return { ...template, Resources: kept(template.Resources), Outputs: kept(template.Outputs) };
}
