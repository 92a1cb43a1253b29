/**
 * `flinkfn gc`: release what no destructor handled: ended, expired and lost deployments, half-created ones,
 * and anything carrying flinkfn's marks that no deployment record lists.
 */
import { defineCommand } from '../command.js';
import { resolveTarget } from '../target-options.js';

export const gcCommand = defineCommand({
  command: 'gc',
  describe: 'Release leftovers: ended or expired deployments, killed deploys, and flinkfn resources no record lists',
  target: true,
  options: {
    'dry-run': { type: 'boolean', default: false, describe: 'List each item with its reason; change nothing' },
    'abandoned-after': { type: 'number', default: 600, describe: 'Seconds after which an unfinished operation of a process on another host counts as abandoned (one on this host counts once its process is gone)' },
  },
  examples: [
    ['$0 gc --dry-run', 'What would be released, and why'],
    ['$0 gc --target prod --json', 'From a scheduled CI job'],
  ],
  epilog: 'Safe on a schedule and while deploys run: deployments that are alive or being changed are left alone. Never deletes a topic flinkfn did not create, nor a resource declared retain.',
  run: async (args, out) => {
    const { gc } = await import('@flinkfn/deploy');
    const result = await gc({
      target: await resolveTarget(args),
      dryRun: args['dry-run'],
      abandonedAfterMs: args['abandoned-after'] * 1000,
      onItem: (item) => out.progress(`${item.action} ${item.kind} ${item.id}`),
    });
    if (result.items.length === 0) out.info('nothing to collect');
    for (const item of result.items) out.info(`${item.action.padEnd(16)} ${item.kind.padEnd(21)} ${item.id}  (${item.reason})`);
    out.data({ ok: true, ...result });
  },
});
