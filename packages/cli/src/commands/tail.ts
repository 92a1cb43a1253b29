/**
 * `flinkfn tail <name>`: a deployment's results, live, as they are committed to its result topics.
 */
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';
import { resolveTarget, withTargetOptions, type TargetArgs } from '../target-options.js';

interface TailArgs extends TargetArgs {
  name: string;
  'from-beginning': boolean;
  limit?: number;
  seconds?: number;
}

export const tailCommand: CommandModule<object, TailArgs> = {
  command: 'tail <name>',
  describe: "Print a deployment's results as they arrive (Ctrl-C stops)",
  builder: (yargs) =>
    withTargetOptions(yargs as Argv<object>)
      .positional('name', { type: 'string', demandOption: true })
      .option('from-beginning', { type: 'boolean', default: false, describe: 'Start at the oldest result instead of new ones' })
      .option('limit', { type: 'number', describe: 'Stop after this many results' })
      .option('seconds', { type: 'number', describe: 'Stop after this many seconds' }) as Argv<TailArgs>,
  handler: async (args) => {
    const out = createOutput(args.json);
    const { tail } = await import('@flinkfn/deploy');
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    process.once('SIGTERM', () => abort.abort());
    if (args.seconds !== undefined) setTimeout(() => abort.abort(), args.seconds * 1000).unref();
    out.progress(`waiting for results of ${args.name} (Ctrl-C stops)`);
    await tail({
      target: await resolveTarget(args),
      name: args.name,
      fromBeginning: args['from-beginning'],
      ...(args.limit !== undefined ? { limit: args.limit } : {}),
      signal: abort.signal,
      onRecord: (record) => {
        if (args.json) out.data(record);
        else out.info(`${record.topic}${record.key !== null ? ` [${record.key}]` : ''} ${record.value}`);
      },
    });
  },
};
