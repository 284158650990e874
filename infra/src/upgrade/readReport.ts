import { readFile } from 'node:fs/promises';
import { UpgradeUsageError } from '../errors.js';
import { awsCall } from '../switch/AwsCall.js';
import type { AwsClients } from '../switch/AwsClients.js';
import { sendCall } from '../switch/sendCall.js';
import type { GoNoGoReport } from './GoNoGoReport.js';

/** Where the rehearsal stores its reports (saveReport): only these keys are read from a bucket. */
const S3_REPORT = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(upgrade-reports\/[0-9A-Za-z./-]{1,400}\.json)$/;

/**
 * A rehearsal's go/no-go report from a file, or (with `s3`, the deployment's clients and region)
 * from `s3://<bucket>/upgrade-reports/….json`; refused when it is about another upgrade than
 * `from` → `to`.
 */
export async function readReport(
  source: string,
  from: string,
  to: string,
  s3?: { readonly clients: AwsClients; readonly region: string },
): Promise<GoNoGoReport> {
  let report: GoNoGoReport;
  try {
    let text: string;
    if (source.startsWith('s3://')) {
      const address = S3_REPORT.exec(source);
      if (!address) throw new Error('not s3://<bucket>/upgrade-reports/….json');
      if (!s3) throw new Error('a report in S3 is read by apply, with the deployment named; give a file here');
      const { Body } = await sendCall(
        s3.clients,
        awsCall('s3:GetObject', s3.region, { Bucket: address[1], Key: address[2] }, true),
      );
      text = (await Body?.transformToString()) ?? '';
    } else {
      text = await readFile(source, 'utf8');
    }
    report = JSON.parse(text) as GoNoGoReport;
  } catch (error) {
    throw new UpgradeUsageError(`--report '${source}' is not a readable report: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (report.from !== from || report.to !== to) {
    throw new UpgradeUsageError(`--report '${source}' is about ${report.from} → ${report.to}, not ${from} → ${to}.`);
  }
  return report;
}
