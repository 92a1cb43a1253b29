/**
 * `flinkfn logs <name>`: the job's exception history, what its handler printed with console.* on the TaskManagers
 * (every job of the deployment), and other TaskManager log lines about it; `--follow` keeps printing new handler
 * lines until SIGINT or SIGTERM.
 */
import type { HandlerLogEntry } from '@flinkfn/deploy';
import { defineCommand } from '../command.js';
import type { Output } from '../output.js';
import { resolveTarget } from '../target-options.js';

export const logsCommand = defineCommand({
  command: 'logs <name>',
  describe: "Show a deployment's exceptions and its handler's console output on the TaskManagers (--follow: as it comes)",
  target: true,
  positionals: { name: { type: 'string', demandOption: true } },
  options: {
    lines: { type: 'number', default: 50, describe: 'Log lines to show (the last ones; with --follow, before the new ones)' },
    follow: {
      alias: 'f',
      type: 'boolean',
      default: false,
      describe: "Keep printing the handler's new log lines until Ctrl-C (polls the TaskManagers' logs over Flink REST)",
    },
  },
  examples: [
    ['$0 logs squares', 'Exceptions, the last 50 handler log lines and other TaskManager lines about the deployment'],
    ['$0 logs squares --follow', "Print the handler's console output as the TaskManagers log it; Ctrl-C stops"],
    ['$0 logs squares -f --lines 0 --json', 'Only new lines, one JSON object each: {at, taskManager, level, function, jobId, text}'],
  ],
  epilog:
    "A handler's console.log/info/debug/warn/error/trace runs in the sidecar next to each TaskManager; the TaskManager " +
    'logs each line as "flinkfn handler log job <jobId> <function> [<level>]: <text>" (WARN for warn, ERROR for error, ' +
    'INFO otherwise), and this command reads those lines back for every job the deployment has run. "at" is the time ' +
    "as the TaskManager's log writes it. --follow survives TaskManager restarts and exits 0 on SIGINT or SIGTERM. " +
    'In flinkfn dev the same output goes to stderr, prefixed with the function name.',
  run: async (args, out) => {
    const target = await resolveTarget(args);
    if (args.follow) {
      const { followLogs } = await import('@flinkfn/deploy');
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());
      out.progress(`following the handler log lines of ${args.name} (Ctrl-C stops)`);
      await followLogs({
        target,
        name: args.name,
        lines: args.lines,
        signal: abort.signal,
        onEntry: (entry) => printEntry(out, entry),
        onWarning: (message) => out.warn(message),
      });
      return;
    }
    const { logs } = await import('@flinkfn/deploy');
    const result = await logs(target, args.name, args.lines);
    out.info(result.exceptions.length === 0 ? 'no exceptions' : `${result.exceptions.length} exception(s), newest first:`);
    for (const e of result.exceptions) out.info(`  ${new Date(e.at).toISOString()} ${e.summary}`);
    out.info(result.handlerLogs.length === 0 ? 'no handler log lines' : 'handler log (console.*):');
    for (const entry of result.handlerLogs) out.info(`  ${formatEntry(entry)}`);
    if (result.taskManagerLines.length > 0) out.info('TaskManager log:');
    for (const line of result.taskManagerLines) out.info(`  ${line}`);
    out.data({ ok: true, ...result });
  },
});

function formatEntry(entry: HandlerLogEntry): string {
  return `${entry.at ?? '-'} ${entry.function} [${entry.level}] ${entry.text}`;
}

/** With --json one object per line, with exactly the entry's fields. */
function printEntry(out: Output, entry: HandlerLogEntry): void {
  const { at, taskManager, level, function: fn, jobId, text } = entry;
  out.data({ at, taskManager, level, function: fn, jobId, text });
  out.info(formatEntry(entry));
}
