/**
 * A handler's console output on Flink, read back from the TaskManager logs over Flink's REST API: the lines the
 * runtime logs as `flinkfn handler log job <jobId> <function> [<level>]: <text>` (the contract:
 * packages/sidecar/src/log-lines.ts), for `flinkfn logs` and `flinkfn logs --follow`.
 *
 * Following polls every TaskManager's log (REST serves the whole file) and hands on the complete lines added since
 * the last poll. Where it stopped is remembered per log file, and a file is known by its first line, not by the
 * TaskManager's id: a TaskManager that restarts gets a new id but may append to the same file (the local stack's
 * does), whose earlier lines were shown already; a new file (a restart that truncates, a rolled log) is read from its
 * start. A TaskManager or JobManager that does not answer is skipped for that poll, so following goes on across
 * restarts.
 */
import { parseHandlerLogMessage, type HandlerLogMessage } from '@flinkfn/sidecar/log-lines';
import type { FlinkClient } from '../clients/flink.js';
import type { ObjectStore } from '../clients/object-store.js';
import type { ResolvedTarget } from '../config.js';
import { DeployError } from '../errors.js';
import { Deployment } from '../registry.js';
import { openSession } from '../session.js';

/**
 * One line a handler printed with console.* on Flink.
 *
 * @example
 * const entry: HandlerLogEntry = { at: '10:00:00,123', taskManager: 'tm-1', level: 'log', function: 'squares', jobId: '…', text: 'saw 3' };
 */
export interface HandlerLogEntry {
  /** The time at the start of the TaskManager's log line, as that log writes it (its layout, its time zone); null if none. */
  at: string | null;
  taskManager: string;
  /** The console method: log, info, debug, warn, error or trace. */
  level: HandlerLogMessage['level'];
  function: string;
  jobId: string;
  text: string;
}

/** A log4j time at the start of a line: `2026-12-03 10:00:00,123` (Flink's layout) or `10:00:00,123`. */
const LEADING_TIME = /^(?:\d{4}-\d{2}-\d{2}[ T])?\d{2}:\d{2}:\d{2}[,.]\d{3}/;

/** A TaskManager log line as a handler log entry, or null if it is not one. */
export function parseTaskManagerLine(line: string, taskManager: string): HandlerLogEntry | null {
  const message = parseHandlerLogMessage(line);
  if (!message) return null;
  return { at: LEADING_TIME.exec(line)?.[0] ?? null, taskManager, level: message.level, function: message.function, jobId: message.jobId, text: message.text };
}

/** Reads the complete lines the TaskManagers' logs gained since the previous read (the first read: all of them). */
export class TaskManagerLogReader {
  /** By a log file's first line: how many characters of it were read. */
  private readonly readUpTo = new Map<string, number>();

  constructor(private readonly flink: FlinkClient) {}

  /** New lines per TaskManager, and what could not be read this time (it is tried again on the next read). */
  async read(): Promise<{ lines: Array<{ taskManager: string; line: string }>; unreadable: string[]; listed: boolean }> {
    const lines: Array<{ taskManager: string; line: string }> = [];
    const unreadable: string[] = [];
    let taskManagers: string[];
    try {
      taskManagers = (await this.flink.taskManagers()).taskmanagers.map((tm) => tm.id);
    } catch (error) {
      return { lines, unreadable: [`the TaskManager list (${error instanceof Error ? error.message : String(error)})`], listed: false };
    }
    for (const taskManager of taskManagers) {
      let text: string;
      try {
        text = await this.flink.taskManagerLog(taskManager);
      } catch (error) {
        unreadable.push(`the log of TaskManager ${taskManager} (${error instanceof Error ? error.message : String(error)})`);
        continue;
      }
      const firstEnd = text.indexOf('\n');
      const complete = text.lastIndexOf('\n') + 1;
      if (firstEnd < 0) continue; // not one complete line yet
      const file = text.slice(0, firstEnd);
      let from = this.readUpTo.get(file) ?? 0;
      if (from > complete) from = 0; // the same first line but shorter: rewritten; read it again
      for (const line of text.slice(from, complete).split('\n')) if (line !== '') lines.push({ taskManager, line });
      this.readUpTo.set(file, complete);
    }
    return { lines, unreadable, listed: true };
  }
}

/** The job ids of every version of a deployment (a rollback or redeploy runs a new job; its old lines still count). */
async function jobIdsOf(store: ObjectStore, name: string): Promise<Set<string> | null> {
  const deployment = await Deployment.load(store, name);
  return deployment ? new Set(deployment.record.versions.map((v) => v.jobId)) : null;
}

export interface FollowLogsOptions {
  target: ResolvedTarget;
  name: string;
  /** Handler lines already in the logs to show first (the last ones); 0 shows only new lines. */
  lines: number;
  /** Stops following; the promise resolves then. */
  signal: AbortSignal;
  onEntry: (entry: HandlerLogEntry) => void;
  /** A poll could not read something (it is tried again); each distinct problem is reported once. */
  onWarning?: (message: string) => void;
  /** Between polls; 1 s by default. */
  intervalMs?: number;
}

/**
 * `flinkfn logs <name> --follow`: the deployment's handler log lines, the last `lines` first, then new ones as the
 * TaskManagers log them, until `signal` aborts. Resolves with the number of entries shown.
 */
export async function followLogs(options: FollowLogsOptions): Promise<number> {
  const session = await openSession(options.target, { startLocal: false });
  try {
    let jobIds = await jobIdsOf(session.store, options.name);
    if (!jobIds) throw new DeployError(`no deployment named "${options.name}"`, { hint: 'flinkfn ls lists the deployments of this target.' });
    const reader = new TaskManagerLogReader(session.flink);
    const warned = new Set<string>();
    let shown = 0;
    // Until the TaskManagers were listed once, what the logs hold is old: only the last `lines` of it are shown.
    let first = true;
    for (let poll = 0; !options.signal.aborted; poll++) {
      // A rollback or redeploy during the follow adds a job id; a store that does not answer keeps the ones known.
      if (poll > 0) jobIds = (await jobIdsOf(session.store, options.name).catch(() => null)) ?? jobIds;
      const { lines, unreadable, listed } = await reader.read();
      for (const problem of unreadable) {
        if (!warned.has(problem)) options.onWarning?.(`could not read ${problem}; trying again`);
        warned.add(problem);
      }
      const ids = jobIds;
      let entries = lines.map((l) => parseTaskManagerLine(l.line, l.taskManager)).filter((e): e is HandlerLogEntry => e !== null && ids.has(e.jobId));
      if (first) entries = options.lines > 0 ? entries.slice(-options.lines) : [];
      if (listed) first = false;
      for (const entry of entries) {
        if (options.signal.aborted) break;
        options.onEntry(entry);
        shown++;
      }
      await sleep(options.intervalMs ?? 1_000, options.signal);
    }
    return shown;
  } finally {
    await session.close();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
