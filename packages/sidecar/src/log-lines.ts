/**
 * Handler log lines: how a handler's `console.*` on Flink reaches the TaskManager log, attributed to its job and
 * function. Not part of the operator protocol (that is the Unix socket, protocol.ts): these are lines on the
 * sidecar's stderr, which the operator that started it drains into the TaskManager log anyway. The Java side is
 * `packages/runtime-flink/src/main/java/dev/flinkfn/runtime/sidecar/HandlerLogLine.java`; both sides, and the
 * reader behind `flinkfn logs` (packages/deploy/src/observe/handler-logs.ts), test against
 * `packages/sidecar/test/golden/log-lines.json`.
 *
 * 1. The sidecar writes each line of a console call's text (util.format of its arguments, split at \n; a \r before
 *    it is dropped) as one stderr line
 *
 *        flinkfn-handler-log <level> <line>
 *
 *    <level> is the console method: log, info, debug, warn, error or trace. A line that does not have this shape,
 *    or names another level, is ordinary stderr (`sidecar <pid> stderr: …`, as before).
 *
 * 2. The operator that started the sidecar knows its job and function, and logs each such line with the logger
 *    `dev.flinkfn.handler` at the level of the console method (warn → WARN; error → ERROR; log, info, debug and
 *    trace → INFO: Node prints those alike, and a TaskManager logs INFO by default) as the message
 *
 *        flinkfn handler log job <jobId> <function> [<level>]: <line>
 *
 *    <jobId> is Flink's 32 hex digits, <function> the manifest's name (no spaces: [a-z0-9-]).
 *
 * 3. `flinkfn logs` finds these messages in the TaskManager logs it reads over Flink's REST API.
 */
import { CONSOLE_LEVELS, type ConsoleLevel } from '@flinkfn/host';

export const HANDLER_LOG_PREFIX = 'flinkfn-handler-log ';
export const HANDLER_LOG_MESSAGE = 'flinkfn handler log job ';

/** The stderr lines for one console call (rule 1). */
export function encodeHandlerLog(level: ConsoleLevel, text: string): string[] {
  return text.split(/\r?\n/).map((line) => `${HANDLER_LOG_PREFIX}${level} ${line}`);
}

/** A stderr line as rule 1 reads it: the level and the text, or null for ordinary stderr. */
export function decodeHandlerLog(line: string): { level: ConsoleLevel; text: string } | null {
  if (!line.startsWith(HANDLER_LOG_PREFIX)) return null;
  const rest = line.slice(HANDLER_LOG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) return null;
  const level = rest.slice(0, space);
  if (!(CONSOLE_LEVELS as readonly string[]).includes(level)) return null;
  return { level: level as ConsoleLevel, text: rest.slice(space + 1) };
}

/** A handler log message as it stands in the TaskManager log (rule 2). */
export interface HandlerLogMessage {
  jobId: string;
  function: string;
  level: ConsoleLevel;
  text: string;
}

const MESSAGE = new RegExp(`${HANDLER_LOG_MESSAGE}([0-9a-f]{32}) ([a-z0-9-]+) \\[(${CONSOLE_LEVELS.join('|')})\\]: (.*)$`);

/** Finds rule 2's message in a TaskManager log line (after the timestamp, level and logger); null if it has none. */
export function parseHandlerLogMessage(line: string): HandlerLogMessage | null {
  const m = MESSAGE.exec(line);
  if (!m) return null;
  return { jobId: m[1] as string, function: m[2] as string, level: m[3] as ConsoleLevel, text: m[4] as string };
}

/** Rule 2's message, as the Java side formats it (for tests and tools). */
export function formatHandlerLogMessage(message: HandlerLogMessage): string {
  return `${HANDLER_LOG_MESSAGE}${message.jobId} ${message.function} [${message.level}]: ${message.text}`;
}
