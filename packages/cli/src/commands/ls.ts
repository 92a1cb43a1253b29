/**
 * `flinkfn ls`: the target's deployments and the state of their jobs.
 */
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';
import { resolveTarget, withTargetOptions, type TargetArgs } from '../target-options.js';

interface LsArgs extends TargetArgs {
  all: boolean;
}

export const lsCommand: CommandModule<object, LsArgs> = {
  command: 'ls',
  describe: 'List the deployments of a target',
  builder: (yargs) =>
    withTargetOptions(yargs as Argv<object>).option('all', { type: 'boolean', default: false, describe: 'Include ended deployments that still hold retained resources' }) as Argv<LsArgs>,
  handler: async (args) => {
    const out = createOutput(args.json);
    const { list } = await import('@flinkfn/deploy');
    const deployments = await list(await resolveTarget(args), { all: args.all });
    if (deployments.length === 0) out.info('no deployments');
    for (const d of deployments) {
      const operation = d.operation ? `  (${d.operation.kind} unfinished since ${d.operation.startedAt})` : d.ended ? `  (ended ${d.ended.at}: ${d.ended.reason})` : d.lifetime?.expiresAt ? `  (expires ${d.lifetime.expiresAt})` : '';
      out.info(`${d.name.padEnd(24)} v${String(d.version ?? '-').padEnd(4)} ${String(d.jobState ?? 'no job').padEnd(12)} ${d.jobId ?? ''}${operation}`);
    }
    out.data({ ok: true, deployments });
  },
};
