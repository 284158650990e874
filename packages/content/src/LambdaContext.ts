/** The part of the Lambda context object this function uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}
