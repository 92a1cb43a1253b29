/**
 * `flinkfn rollback <name>`: go back to the previous version, keeping window state.
 */
import { defineCommand } from '../command.js';
import { resolveTarget } from '../target-options.js';

export const rollbackCommand = defineCommand({
  command: 'rollback <name>',
  describe: 'Stop the current version with a savepoint and run the previous one from it',
  target: true,
  positionals: { name: { type: 'string', demandOption: true, describe: 'Deployment name' } },
  options: {
    'from-scratch': { type: 'boolean', default: false, describe: 'Start the previous version without state' },
  },
  run: async (args, out) => {
    const { rollback } = await import('@flinkfn/deploy');
    const result = await rollback({ target: await resolveTarget(args), name: args.name, fromScratch: args['from-scratch'], onProgress: (line) => out.progress(line) });
    out.info(`rolled ${result.name} back from v${result.from} to v${result.to} (job ${result.jobId}${result.restoredFrom ? `, state from ${result.restoredFrom}` : ''})`);
    out.data({ ok: true, ...result });
  },
});
