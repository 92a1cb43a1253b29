/**
 * `flinkfn ls`: the target's deployments and the state of their jobs.
 */
import { defineCommand } from '../command.js';
import { resolveTarget } from '../target-options.js';

export const lsCommand = defineCommand({
  command: 'ls',
  describe: 'List the deployments of a target',
  target: true,
  options: {
    all: { type: 'boolean', default: false, describe: 'Include ended deployments that still hold retained resources' },
  },
  run: async (args, out) => {
    const { list } = await import('@flinkfn/deploy');
    const deployments = await list(await resolveTarget(args), { all: args.all });
    if (deployments.length === 0) out.info('no deployments');
    for (const d of deployments) {
      const operation = d.operation ? `  (${d.operation.kind} unfinished since ${d.operation.startedAt})` : d.ended ? `  (ended ${d.ended.at}: ${d.ended.reason})` : d.lifetime?.expiresAt ? `  (expires ${d.lifetime.expiresAt})` : '';
      out.info(`${d.name.padEnd(24)} v${String(d.version ?? '-').padEnd(4)} ${String(d.jobState ?? 'no job').padEnd(12)} ${d.jobId ?? ''}${operation}`);
    }
    out.data({ ok: true, deployments });
  },
});
