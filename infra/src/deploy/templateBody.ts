import { loadTemplate, type TemplateName } from '../parseTemplate.js';

/**
 * The largest template the AWS CLI's `cloudformation deploy` sends inline; a larger one must go
 * through an S3 bucket (`--s3-bucket`). The CreateStack/UpdateStack API takes a TemplateBody of at
 * most 51,200 bytes: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
 */
export const MAX_INLINE_TEMPLATE_BYTES = 51_200;

/**
 * A layer's template as compact JSON: what CloudFormation reads from the YAML (short tags in their
 * long forms), without the comments that explain it, so that a template whose YAML is past the
 * inline limit can still be deployed without a bucket.
 */
export function templateBody(name: TemplateName): string {
  return JSON.stringify(loadTemplate(name));
}
