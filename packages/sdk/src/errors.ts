/**
 * A mistake in a function declaration. `path` names the option (for example `window.size`),
 * `hint` says how to fix it. The CLI prints these without a stack trace.
 *
 * @example
 * try { defineFunction(spec) } catch (e) { if (e instanceof DeclarationError) console.error(e.path, e.hint) }
 */
export class DeclarationError extends Error {
  override readonly name = 'DeclarationError';
  /** Dotted path of the offending option, `''` for the declaration as a whole. */
  readonly path: string;
  /** How to fix it. */
  readonly hint: string;
  /** The offending value, when there is one; used to point at it in the source. */
  readonly value: unknown;

  constructor(path: string, message: string, hint: string, value?: unknown) {
    super(path ? `${path}: ${message}` : message);
    this.path = path;
    this.hint = hint;
    this.value = value;
  }
}

/**
 * Whether `error` is a {@link DeclarationError} from any copy of the SDK (a bundled handler carries its
 * own copy, so `instanceof` is not enough).
 *
 * @example
 * catch (e) { if (isDeclarationError(e)) console.error(e.path, e.hint) }
 */
export function isDeclarationError(error: unknown): error is DeclarationError {
  return (
    error instanceof Error &&
    error.name === 'DeclarationError' &&
    typeof (error as Partial<DeclarationError>).path === 'string' &&
    typeof (error as Partial<DeclarationError>).hint === 'string'
  );
}
