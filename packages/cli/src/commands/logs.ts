/**
 * `flinkfn logs <name>`: the job's exception history and the TaskManager log lines about it.
 */
import { defineCommand } from '../command.js';
import { resolveTarget } from '../target-options.js';

export const logsCommand = defineCommand({
  command: 'logs <name>',
  describe: "Show a deployment's exceptions and TaskManager log lines",
  target: true,
  positionals: { name: { type: 'string', demandOption: true } },
  options: {
    lines: { type: 'number', default: 50, describe: 'TaskManager log lines to show' },
  },
  run: async (args, out) => {
    const { logs } = await import('@flinkfn/deploy');
    const result = await logs(await resolveTarget(args), args.name, args.lines);
    out.info(result.exceptions.length === 0 ? 'no exceptions' : `${result.exceptions.length} exception(s), newest first:`);
    for (const e of result.exceptions) out.info(`  ${new Date(e.at).toISOString()} ${e.summary}`);
    if (result.taskManagerLines.length > 0) out.info('TaskManager log:');
    for (const line of result.taskManagerLines) out.info(`  ${line}`);
    out.data({ ok: true, ...result });
  },
});
