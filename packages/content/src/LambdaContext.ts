/** The part of the Lambda context object the content functions use. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  /** Names the invocation, e.g. in a restore lease. */
  readonly awsRequestId?: string;
}
