import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CollectionTag, parse, type ScalarTag, YAMLMap, YAMLSeq } from 'yaml';

/** A CloudFormation template after parsing: short tags become their long `Fn::` / `Ref` forms. */
export interface Template {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Metadata?: Record<string, unknown>;
  Parameters?: Record<string, TemplateParameter>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Description?: string; Value: unknown; Condition?: string; Export?: unknown }>;
}

export interface TemplateParameter {
  Type: string;
  Default?: string | number;
  AllowedValues?: readonly (string | number)[];
  Description?: string;
  [key: string]: unknown;
}

export interface TemplateResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
  // biome-ignore lint/suspicious/noExplicitAny: template properties are arbitrary JSON; tests narrow them.
  Properties?: Record<string, any>;
}

/** The layers, one template each, in the order they are deployed. */
export const TEMPLATE_NAMES = [
  'network',
  'data',
  'app',
  'edge',
  'functions',
  'observability',
  'registry',
  'operator',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'cloudformation');

// `!GetAtt A.B` is the scalar form of `Fn::GetAtt: [A, B]`; every other function keeps its argument.
const FUNCTIONS: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  Sub: 'Fn::Sub',
  GetAtt: 'Fn::GetAtt',
  Join: 'Fn::Join',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  If: 'Fn::If',
  Equals: 'Fn::Equals',
  Not: 'Fn::Not',
  And: 'Fn::And',
  Or: 'Fn::Or',
  GetAZs: 'Fn::GetAZs',
  ImportValue: 'Fn::ImportValue',
  Cidr: 'Fn::Cidr',
  FindInMap: 'Fn::FindInMap',
  Base64: 'Fn::Base64',
  Transform: 'Fn::Transform',
  GetStackOutput: 'Fn::GetStackOutput',
};

function tagsFor(name: string, longName: string): (ScalarTag | CollectionTag)[] {
  const tag = `!${name}`;
  // A collection argument stays a node so that tags nested in it are converted too.
  const wrap = (value: unknown) => {
    const map = new YAMLMap();
    map.set(longName, value);
    return map;
  };
  return [
    {
      tag,
      resolve: (value: string) =>
        name === 'GetAtt' ? { [longName]: value.split(/\.(.*)/s, 2) } : { [longName]: value },
    },
    { tag, collection: 'seq', nodeClass: YAMLSeq, resolve: wrap },
    { tag, collection: 'map', nodeClass: YAMLMap, resolve: wrap },
  ];
}

const CUSTOM_TAGS = Object.entries(FUNCTIONS).flatMap(([name, longName]) => tagsFor(name, longName));

/** Parses CloudFormation YAML, turning every short tag (`!Ref`, `!Sub`, ...) into its long form. */
export function parseTemplate(text: string): Template {
  return parse(text, { customTags: CUSTOM_TAGS }) as Template;
}

export function loadTemplate(name: TemplateName): Template {
  return parseTemplate(readFileSync(join(TEMPLATE_DIR, `${name}.yaml`), 'utf8'));
}
