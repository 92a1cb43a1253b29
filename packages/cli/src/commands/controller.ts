/**
 * `flinkfn controller`: the long-running process that ends, resumes and expires deployments with no other
 * flinkfn command alive (the destructor, recovery of lost jobs, TTLs and idle timeouts).
 */
import { defineCommand } from '../command.js';
import { resolveTarget } from '../target-options.js';

export const controllerCommand = defineCommand({
  command: 'controller',
  describe: 'Watch a target\'s deployments until stopped: release ended ones, resume lost jobs, enforce TTLs and idle timeouts',
  target: true,
  options: {
    interval: { type: 'number', default: 2, describe: 'Seconds between passes' },
  },
  examples: [['$0 controller --target prod', 'Run next to a remote cluster (a systemd unit, a one-replica Kubernetes Deployment)']],
  epilog: 'The local stack starts one by itself (flinkfn local status shows it). Without a controller, run flinkfn gc on a schedule. Every event is one line (one JSON object with --json); SIGINT/SIGTERM stop it between passes.',
  run: async (args, out) => {
    const { runController } = await import('@flinkfn/deploy');
    const target = await resolveTarget(args);
    const stop = new AbortController();
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
    let unreachable = '';
    out.info(`controller watching ${target.name} (${target.flinkUrl || target.localRoot}) every ${args.interval} s`);
    await runController({
      target,
      intervalMs: args.interval * 1000,
      signal: stop.signal,
      onEvent: (event) => {
        out.info(`${event.at} ${event.deployment}: ${event.action} (${event.reason}) ${event.detail}${event.ms !== undefined ? ` in ${event.ms} ms` : ''}`);
        out.data(event);
      },
      onUnreachable: (message) => {
        // Once per outage, not every pass.
        if (message !== unreachable) out.warn(`target unreachable, retrying: ${message}`);
        unreachable = message;
      },
    });
  },
});
