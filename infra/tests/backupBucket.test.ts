import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../src/parseTemplate.js';
import { isAllowed, isDenied, type PolicyRequest, type PolicyStatement, substitute } from './support/iamPolicy.js';

const BUCKET_ARN = 'arn:aws:s3:::ghost-ha-functions-backupbucket-1';
const NAMES = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  ProjectName: 'ghost-ha',
  NetworkStackName: 'ghost-ha-network',
  'BackupBucket.Arn': BUCKET_ARN,
  'DeleteAllPostsLogGroup.Arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/ghost-ha-delete-all-posts',
  'RestorePostsLogGroup.Arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/ghost-ha-restore-posts',
};
const BACKUP = `${BUCKET_ARN}/delete-all-posts/blog.example.com/2026-01-31T10-00-00-000Z.json.gz`;
const LEASE = `${BACKUP}.restore-lease`;
const REGION_KEY = 'import:ghost-ha-network-RegionKeyArn';

/** What the functions template grants a role, and what the bucket policy denies everyone. */
function policies(): { bucket: PolicyStatement[]; role: (id: string) => PolicyStatement[] } {
  const template = loadTemplate('functions');
  const bucket = substitute(template.Resources.BackupBucketPolicy?.Properties?.PolicyDocument.Statement, NAMES);
  return {
    bucket: bucket as PolicyStatement[],
    role: (id) =>
      substitute(
        template.Resources[id]?.Properties?.Policies.flatMap(
          (policy: { PolicyDocument: { Statement: unknown[] } }) => policy.PolicyDocument.Statement,
        ),
        NAMES,
      ) as PolicyStatement[],
  };
}

/**
 * A PutObject (or the completion of a multipart upload, or a copy): `s3:ObjectCreationOperation` is
 * true. Without encryption headers, as the functions write: the bucket's default key applies.
 */
function put(resource: string, headers: Record<string, string> = {}): PolicyRequest {
  return { action: 's3:PutObject', resource, context: { 's3:ObjectCreationOperation': 'true', ...headers } };
}

describe('the backup bucket: a backup is written once', () => {
  const { bucket, role } = policies();
  const may = (roleId: string, request: PolicyRequest) => isAllowed([...role(roleId), ...bucket], request);

  it('lets the delete role create a backup with If-None-Match, and nothing else on an existing key', () => {
    expect(may('DeleteAllPostsRole', put(BACKUP, { 's3:if-none-match': '*' }))).toBe(true);
    // An unconditional write would replace the backup (a new current version): refused for every principal.
    expect(may('DeleteAllPostsRole', put(BACKUP))).toBe(false);
    expect(isDenied(bucket, put(BACKUP))).toBe(true);
    // A copy onto a backup's key cannot carry the header: refused too.
    expect(isDenied(bucket, put(BACKUP, { 's3:if-match': '"etag"' }))).toBe(true);
    expect(may('DeleteAllPostsRole', { action: 's3:DeleteObject', resource: BACKUP, context: {} })).toBe(false);
  });

  it("accepts the bucket's default encryption or the region key, and refuses another key or SSE-S3", () => {
    const created = { 's3:if-none-match': '*' };
    expect(may('DeleteAllPostsRole', put(BACKUP, created))).toBe(true);
    const regionKey = {
      's3:x-amz-server-side-encryption': 'aws:kms',
      's3:x-amz-server-side-encryption-aws-kms-key-id': REGION_KEY,
    };
    expect(may('DeleteAllPostsRole', put(BACKUP, { ...created, ...regionKey }))).toBe(true);
    const otherKey = {
      ...regionKey,
      's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:210987654321:key/x',
    };
    expect(isDenied(bucket, put(BACKUP, { ...created, ...otherKey }))).toBe(true);
    expect(isDenied(bucket, put(BACKUP, { ...created, 's3:x-amz-server-side-encryption': 'AES256' }))).toBe(true);
  });

  it('still lets the parts of a multipart upload through (they cannot carry the header)', () => {
    expect(isDenied(bucket, put(BACKUP, { 's3:ObjectCreationOperation': 'false' }))).toBe(false);
  });

  it('lets the restore role take and take over its lease, and write nothing else', () => {
    expect(may('RestorePostsRole', put(LEASE, { 's3:if-none-match': '*' }))).toBe(true);
    expect(may('RestorePostsRole', put(LEASE, { 's3:if-match': '"etag"' }))).toBe(true);
    expect(may('RestorePostsRole', put(BACKUP, { 's3:if-none-match': '*' }))).toBe(false);
  });
});
