/**
 * Errors the CLI reports without a stack trace (exit code 1): the user can fix them. Anything else is a
 * bug in flinkfn and exits with code 2 and a stack.
 */
// Only types here: this module loads with every command, and the packages behind these errors are
// loaded lazily by the commands that need them. Errors are recognised by name.
import type { BuildError, Diagnostic } from '@flinkfn/bundler';

/** Errors of flinkfn's packages that describe a problem the user can fix. */
const USER_FIXABLE = new Set(['ArtifactError', 'ManifestError', 'LoadError', 'DeployError', 'ConfigError', 'SettingsError']);

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_INTERNAL_ERROR = 2;

/**
 * A mistake in how flinkfn was called or configured.
 *
 * @example
 * throw new UserError('no events file given', 'Pass --input events.jsonl or pipe events on stdin.');
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

export interface ReportedError {
  code: number;
  /** Human text for stderr. */
  text: string;
  /** For --json output. */
  json: { message: string; hint?: string; step?: string; diagnostics?: Diagnostic[]; stack?: string };
}

/** Classifies an error into what to print and which exit code to use. */
export function reportError(error: unknown): ReportedError {
  if (isNamed<BuildError>(error, 'BuildError')) {
    return { code: EXIT_USER_ERROR, text: error.render(), json: { message: error.message, diagnostics: error.diagnostics } };
  }
  if (error instanceof UserError || isNamed<Error & { hint: string }>(error, 'DeclarationError')) {
    const hint = error.hint;
    return {
      code: EXIT_USER_ERROR,
      text: `error: ${error.message}\n${hint ? `  hint: ${hint}\n` : ''}`,
      json: hint ? { message: error.message, hint } : { message: error.message },
    };
  }
  if (error instanceof Error && USER_FIXABLE.has(error.name)) {
    // DeployError and ConfigError say which step failed and what to do.
    const { hint, step } = error as Error & { hint?: string; step?: string };
    return {
      code: EXIT_USER_ERROR,
      text: `error${step ? ` (${step})` : ''}: ${error.message}\n${hint ? `  hint: ${hint}\n` : ''}`,
      json: { message: error.message, ...(hint ? { hint } : {}), ...(step ? { step } : {}) },
    };
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    code: EXIT_INTERNAL_ERROR,
    text: `internal error (a bug in flinkfn; please report it with this output):\n${stack}\n`,
    json: { message: error instanceof Error ? error.message : String(error), stack },
  };
}

function isNamed<T extends Error>(error: unknown, name: string): error is T {
  return error instanceof Error && error.name === name;
}
