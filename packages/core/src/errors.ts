/** A setting is missing or invalid; the message names each variable, what is wrong and an example. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(
      problems.length === 1
        ? `Invalid configuration: ${problems[0]}`
        : `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Base class of every Secrets Manager failure; never carries the secret's value. */
export class SecretError extends Error {
  readonly secretId: string;

  constructor(message: string, secretId: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretError';
    this.secretId = secretId;
  }
}

export class SecretNotFoundError extends SecretError {
  constructor(secretId: string, options?: { cause?: unknown }) {
    super(
      `Secret '${secretId}' was not found. Check the secret id or ARN and the region (AWS_REGION).`,
      secretId,
      options,
    );
    this.name = 'SecretNotFoundError';
  }
}

export class SecretAccessDeniedError extends SecretError {
  constructor(secretId: string, options?: { cause?: unknown }) {
    super(
      `Access to secret '${secretId}' was denied. Grant secretsmanager:GetSecretValue on it (and kms:Decrypt on its key) to this role.`,
      secretId,
      options,
    );
    this.name = 'SecretAccessDeniedError';
  }
}

export class SecretMalformedError extends SecretError {
  constructor(secretId: string, problem: string, options?: { cause?: unknown }) {
    super(`Secret '${secretId}' is malformed: ${problem}`, secretId, options);
    this.name = 'SecretMalformedError';
  }
}

/**
 * A Ghost Admin API call failed. Only the method, path, status and Ghost's own error text are
 * kept: request headers (the token) and bodies never reach logs through this error.
 */
export class GhostApiError extends Error {
  readonly status: number | undefined;
  readonly ghostType: string | undefined;
  readonly operation: string;

  constructor(
    operation: string,
    detail: { status?: number | undefined; ghostType?: string | undefined; message: string },
    options?: { cause?: unknown },
  ) {
    const status = detail.status === undefined ? 'no response' : `HTTP ${detail.status}`;
    super(`Ghost Admin API ${operation} failed (${status}): ${detail.message}`, options);
    this.name = 'GhostApiError';
    this.status = detail.status;
    this.ghostType = detail.ghostType;
    this.operation = operation;
  }
}

/** A health check did not finish within its timeout; its result counts as `fail`. */
export class CheckTimeoutError extends Error {
  constructor(check: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${check} did not finish within ${timeoutMs} ms`, options);
    this.name = 'CheckTimeoutError';
  }
}
