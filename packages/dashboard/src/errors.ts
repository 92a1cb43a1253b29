/**
 * Errors of the dashboard that a user can act on (a refused address, a bad request), and the message of
 * anything thrown.
 */
export class DashboardError extends Error {
  override readonly name = 'DashboardError';
  constructor(message: string, readonly hint?: string, readonly status = 400) {
    super(message);
  }
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message + (error.cause instanceof Error ? ` (${error.cause.message})` : '');
  return String(error);
}
