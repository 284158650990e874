import { describe, expect, it } from 'vitest';
import { MAX_INLINE_TEMPLATE_BYTES, templateBody } from '../src/deploy/templateBody.js';
import { loadTemplate, TEMPLATE_NAMES } from '../src/parseTemplate.js';

describe('templateBody: what scripts/deploy.sh sends for a template past the inline limit', () => {
  it.each(TEMPLATE_NAMES)('%s: the same template as its YAML, within the 51,200 bytes the CLI sends inline', (name) => {
    const body = templateBody(name);
    expect(JSON.parse(body)).toEqual(loadTemplate(name));
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_INLINE_TEMPLATE_BYTES);
  });
});
