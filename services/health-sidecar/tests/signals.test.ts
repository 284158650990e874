import { readFileSync } from 'node:fs';
import { HEALTH_LOG } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { SIDECAR_LOG } from '../src/signals.js';

/** The sidecar's own messages and the health model's (`check warns`, `verdict changed`). */
const logged = new Set<string>([...Object.values(SIDECAR_LOG), ...Object.values(HEALTH_LOG)]);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The quoted log messages in the README's "What the operator sees" table (its second column). */
function operatorTableMessages(text: string): string[] {
  const section = text.split('### What the operator sees')[1]?.split('\n## ')[0] ?? '';
  const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| event'));
  return rows.flatMap((row) => {
    const logColumn = row.split(' | ')[1] ?? '';
    // A message has spaces; field names and values quoted beside it (`downMs`, `module: Gate`) do not.
    return [...logColumn.matchAll(/`([^`]+)`/g)]
      .map((match) => match[1] ?? '')
      .filter((quoted) => quoted.includes(' ') && !/^module: \w+$/.test(quoted));
  });
}

describe('the sidecar log contract', () => {
  it('finds the operator table (the test cannot pass on an empty one)', () => {
    expect(operatorTableMessages(readme).length).toBeGreaterThanOrEqual(8);
  });

  it('quotes in the README only messages the code logs, word for word', () => {
    for (const message of operatorTableMessages(readme)) expect(logged, message).toContain(message);
  });

  it('spots a reworded message', () => {
    const reworded = readme.replace(SIDECAR_LOG.lockRegained, 'lock regained');
    expect(operatorTableMessages(reworded).filter((message) => !logged.has(message))).toEqual(['lock regained']);
  });
});
