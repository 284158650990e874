import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import type { GoNoGoReport } from './GoNoGoReport.js';

/**
 * Stores the report as JSON under `upgrade-reports/<from>-to-<to>/<started>.json`: the versions
 * were checked by preflight, the time is the tool's own, so no input chooses the key.
 */
export async function saveReport(s3: S3Client, bucket: string, report: GoNoGoReport): Promise<string> {
  const key = `upgrade-reports/${report.from}-to-${report.to}/${report.startedAt.replace(/[:.]/g, '-')}.json`;
  if (!/^upgrade-reports\/[0-9A-Za-z.-]+\/[0-9A-Za-z-]+\.json$/.test(key)) {
    throw new Error(`Refusing to store the report under '${key}'`);
  }
  const input: PutObjectCommandInput = {
    Bucket: bucket,
    Key: key,
    Body: `${JSON.stringify(report, null, 2)}\n`,
    ContentType: 'application/json',
    // The backup bucket takes only writes that cannot replace an object (functions.yaml, BackupsAreWrittenOnce).
    IfNoneMatch: '*',
  };
  await s3.send(new PutObjectCommand(input));
  return key;
}
