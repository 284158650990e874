import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pythonToolsBin, REPO_ROOT } from './tools.js';

/** One operation, by botocore's service name (`efs`, `rds`, ...) and operation name. */
export interface ApiOperation {
  readonly service: string;
  readonly operation: string;
}

/**
 * The error codes AWS's published service model lists for each operation (read through botocore
 * in the project's Python venv): a stand-in answering with another code is not what AWS does.
 */
export function awsErrorCodes(operations: readonly ApiOperation[]): Promise<string[][]> {
  const python = join(pythonToolsBin(), 'python');
  const script = join(REPO_ROOT, 'testbed', 'python', 'error_codes.py');
  return new Promise((resolve, reject) => {
    const child = execFile(python, [script], { maxBuffer: 4 * 1024 * 1024, timeout: 60_000 }, (error, stdout) => {
      if (error) return reject(error);
      resolve(JSON.parse(stdout) as string[][]);
    });
    child.stdin?.end(JSON.stringify(operations));
  });
}
