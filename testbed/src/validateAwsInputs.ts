import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pythonToolsBin, REPO_ROOT } from './tools.js';

/** One API input to check: botocore's service name (`efs`, `elbv2`, ...) and operation. */
export interface ApiInput {
  readonly service: string;
  readonly operation: string;
  readonly input: unknown;
}

/**
 * Checks each input against AWS's published service model through botocore's `ParamValidator`
 * (in the project's Python venv): required members, member names, types, minimums. Returns one
 * entry per input: `undefined` when valid, else botocore's report. Dates go as ISO strings, which
 * the validator accepts for timestamps.
 */
export function validateAwsInputs(inputs: readonly ApiInput[]): Promise<(string | undefined)[]> {
  const python = join(pythonToolsBin(), 'python');
  const script = join(REPO_ROOT, 'testbed', 'python', 'validate_calls.py');
  return new Promise((resolve, reject) => {
    const child = execFile(python, [script], { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 }, (error, stdout) => {
      if (error) return reject(error);
      const results = JSON.parse(stdout) as (string | null)[];
      resolve(results.map((r) => r ?? undefined));
    });
    child.stdin?.end(JSON.stringify(inputs));
  });
}
