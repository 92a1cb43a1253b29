/**
 * `flinkfn logs <name>`: the job's exception history and the TaskManager log lines about it.
 */
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';
import { resolveTarget, withTargetOptions, type TargetArgs } from '../target-options.js';

interface LogsArgs extends TargetArgs {
  name: string;
  lines: number;
}

export const logsCommand: CommandModule<object, LogsArgs> = {
  command: 'logs <name>',
  describe: "Show a deployment's exceptions and TaskManager log lines",
  builder: (yargs) =>
    withTargetOptions(yargs as Argv<object>)
      .positional('name', { type: 'string', demandOption: true })
      .option('lines', { type: 'number', default: 50, describe: 'TaskManager log lines to show' }) as Argv<LogsArgs>,
  handler: async (args) => {
    const out = createOutput(args.json);
    const { logs } = await import('@flinkfn/deploy');
    const result = await logs(await resolveTarget(args), args.name, args.lines);
    out.info(result.exceptions.length === 0 ? 'no exceptions' : `${result.exceptions.length} exception(s), newest first:`);
    for (const e of result.exceptions) out.info(`  ${new Date(e.at).toISOString()} ${e.summary}`);
    if (result.taskManagerLines.length > 0) out.info('TaskManager log:');
    for (const line of result.taskManagerLines) out.info(`  ${line}`);
    out.data({ ok: true, ...result });
  },
};
