/** What a deployment must know could not be read from AWS; the message says what to check. */
export class DeployReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeployReadError';
  }
}
