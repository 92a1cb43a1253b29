/**
 * `flinkfn destroy <name>`: remove a deployment and everything it created; safe to run again.
 */
import { createInterface } from 'node:readline/promises';
import { defineCommand } from '../command.js';
import { resolveTarget } from '../target-options.js';

export const destroyCommand = defineCommand({
  command: 'destroy <name>',
  describe: 'Stop a deployment and delete what it created: job, consumer group, topics, checkpoints, savepoints, artifacts',
  target: true,
  positionals: { name: { type: 'string', demandOption: true, describe: 'Deployment name (flinkfn ls)' } },
  options: {
    'dry-run': { type: 'boolean', default: false, describe: 'List every item and what would happen to it; change nothing' },
    'keep-state': { type: 'boolean', default: false, describe: 'Take a final savepoint and keep it' },
    yes: { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation. It is asked only on a terminal: CI=true, --json, --dry-run and input that is not a terminal never ask' },
  },
  examples: [['$0 destroy clickstream --dry-run', 'Show what would be deleted']],
  epilog: 'Idempotent and resumable: after a crash, run it again and it finishes. Retained topics (lifecycle "retain") are kept.',
  run: async (args, out) => {
    if (!args['dry-run'] && !(await confirmed(args))) {
      out.info('nothing destroyed');
      return;
    }
    const { destroy } = await import('@flinkfn/deploy');
    const result = await destroy({
      target: await resolveTarget(args),
      name: args.name,
      dryRun: args['dry-run'],
      keepState: args['keep-state'],
      onItem: (item) => out.progress(`${item.action === 'delete' ? 'deleted' : item.action} ${item.kind} ${item.id}`),
      onProgress: (line) => out.progress(line),
    });
    if (!result.found) {
      out.info(`nothing to destroy: no deployment named "${args.name}" (${result.record})`);
    } else {
      out.info(result.dryRun ? `would destroy ${args.name}:` : `destroyed ${args.name}:`);
      for (const item of result.items) {
        const action = result.dryRun ? item.action : item.action === 'delete' ? 'deleted' : item.action;
        out.info(`  ${action.padEnd(34)} ${item.kind.padEnd(21)} ${item.id}`);
      }
      if (result.savepoint) out.info(`kept final savepoint ${result.savepoint}`);
    }
    out.data({ ok: true, ...result });
  },
});

/** Asks on a terminal only (the --yes help says the same): --yes, CI=true, --json or a non-terminal stdin never prompt. */
async function confirmed(args: { name: string; yes: boolean; json: boolean }): Promise<boolean> {
  if (args.yes || args.json || process.env.CI === 'true' || !process.stdin.isTTY) return true;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Destroy "${args.name}" and delete its topics, state and artifacts? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
