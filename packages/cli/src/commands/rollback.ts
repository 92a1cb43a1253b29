/**
 * `flinkfn rollback <name>`: go back to the previous version, keeping window state.
 */
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';
import { resolveTarget, withTargetOptions, type TargetArgs } from '../target-options.js';

interface RollbackArgs extends TargetArgs {
  name: string;
  'from-scratch': boolean;
}

export const rollbackCommand: CommandModule<object, RollbackArgs> = {
  command: 'rollback <name>',
  describe: 'Stop the current version with a savepoint and run the previous one from it',
  builder: (yargs) =>
    withTargetOptions(yargs as Argv<object>)
      .positional('name', { type: 'string', demandOption: true, describe: 'Deployment name' })
      .option('from-scratch', { type: 'boolean', default: false, describe: 'Start the previous version without state' }) as Argv<RollbackArgs>,
  handler: async (args) => {
    const out = createOutput(args.json);
    const { rollback } = await import('@flinkfn/deploy');
    const result = await rollback({ target: await resolveTarget(args), name: args.name, fromScratch: args['from-scratch'], onProgress: (line) => out.progress(line) });
    out.info(`rolled ${result.name} back from v${result.from} to v${result.to} (job ${result.jobId}${result.restoredFrom ? `, state from ${result.restoredFrom}` : ''})`);
    out.data({ ok: true, ...result });
  },
};
