/**
 * Errors a user can act on. The CLI prints `message` and `hint` without a stack and exits with 1.
 */

/**
 * A deploy-lifecycle failure: which step, what went wrong, and what to do about it.
 *
 * @example
 * throw new DeployError('cannot reach Flink at http://127.0.0.1:8081', {
 *   step: 'connect', hint: 'Start the local stack with flinkfn local up, or check FLINKFN_FLINK_URL.' });
 */
export class DeployError extends Error {
  override readonly name = 'DeployError';
  readonly step: string | undefined;
  readonly hint: string | undefined;
  constructor(message: string, options: { step?: string; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.step = options.step;
    this.hint = options.hint;
  }
}

/** A configuration file or environment variable that is wrong; `where` names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string, readonly where: string, readonly hint?: string) {
    super(`${where}: ${message}`);
  }
}

/** The message of anything thrown, for reports. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return error.message + cause;
  }
  return String(error);
}
