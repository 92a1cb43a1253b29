/**
 * Where a handler's `console.*` goes. User code runs in the runtime's own process (the CLI in `flinkfn dev`, the
 * sidecar on Flink), whose stdout is not the user's: `dev --json` writes JSON lines there, and the sidecar's stdout
 * and stderr are drained into the TaskManager log by the operator that started it. So the runtime routes console
 * output through a sink of its choosing while user code can run: `dev` to stderr prefixed with the function's
 * name, the sidecar to stderr as handler log lines the Java side attributes to job and function (log-lines.ts in
 * packages/sidecar).
 *
 * The redirect is process-wide (console is a global, and an async handler logs after its first await), so a
 * runtime installs it only while nothing but user code uses console; `@flinkfn/testing` does not, because a test's
 * own console calls share the process.
 */
import { format } from 'node:util';

/** The console methods that are redirected, in the words of their method names. */
export const CONSOLE_LEVELS = ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const;
export type ConsoleLevel = (typeof CONSOLE_LEVELS)[number];

/** Receives each console call as the text console would print (util.format of its arguments), without newline. */
export type ConsoleSink = (level: ConsoleLevel, text: string) => void;

/**
 * Replaces `console.log/info/debug/warn/error/trace` with calls of `sink`; returns the function that puts the
 * previous methods back. `trace` gives `Trace: <message>` and the caller's stack, as Node's console.trace does.
 *
 * @example
 * const restore = redirectConsole((level, text) => process.stderr.write(`[squares] ${text}\n`));
 * try { await run() } finally { restore() }
 */
export function redirectConsole(sink: ConsoleSink): () => void {
  const target = globalThis.console as unknown as Record<ConsoleLevel, (...args: unknown[]) => void>;
  const saved = CONSOLE_LEVELS.map((level) => [level, target[level]] as const);
  for (const level of CONSOLE_LEVELS) {
    target[level] =
      level === 'trace'
        ? function trace(...args: unknown[]): void {
            const where: { name: string; message: string; stack?: string } = { name: 'Trace', message: format(...args) };
            Error.captureStackTrace(where, trace);
            sink('trace', where.stack ?? `Trace: ${where.message}`);
          }
        : (...args: unknown[]): void => sink(level, format(...args));
  }
  return () => {
    for (const [level, method] of saved) target[level] = method;
  };
}
