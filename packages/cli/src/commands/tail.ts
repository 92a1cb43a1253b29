/**
 * `flinkfn tail <name>`: a deployment's results, live, as they are committed to its result topics.
 */
import { defineCommand } from '../command.js';
import { resolveTarget } from '../target-options.js';

export const tailCommand = defineCommand({
  command: 'tail <name>',
  describe: "Print a deployment's results as they arrive (Ctrl-C stops)",
  target: true,
  positionals: { name: { type: 'string', demandOption: true } },
  options: {
    'from-beginning': { type: 'boolean', default: false, describe: 'Start at the oldest result instead of new ones' },
    limit: { type: 'number', describe: 'Stop after this many results' },
    seconds: { type: 'number', describe: 'Stop after this many seconds' },
  },
  run: async (args, out) => {
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
});
