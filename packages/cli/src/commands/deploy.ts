/**
 * `flinkfn deploy [entry]`: build the function and run it on the target's Flink cluster; a running
 * deployment of the same name is upgraded (stop with savepoint, start from it).
 */
import { parseDuration } from '@flinkfn/sdk';
import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';
import { parseSetOptions, SET_OPTION } from '../settings-options.js';
import { resolveTarget } from '../target-options.js';

export const deployCommand = defineCommand({
  command: 'deploy [entry]',
  describe: 'Build a function and run it on Flink (starts the local stack when no target is configured)',
  target: true,
  positionals: { entry: { type: 'string', describe: 'Handler module (default: as for flinkfn build)' } },
  options: {
    name: { type: 'string', describe: 'Deployment name (default: the function name)' },
    'from-scratch': { type: 'boolean', default: false, describe: 'On upgrade, start without the running version\'s state' },
    wait: { type: 'boolean', default: true, describe: 'Wait until the job runs (--no-wait returns after submission)' },
    yes: { alias: 'y', type: 'boolean', default: false, describe: 'Accepted for scripts that pass it to every command; deploy never asks for confirmation' },
    'savepoint-timeout': { type: 'number', default: 60, describe: 'Seconds to wait for the upgrade savepoint' },
    'start-timeout': { type: 'number', default: 120, describe: 'Seconds to wait for the job to run' },
    ttl: { type: 'string', describe: 'Time to live, e.g. 30m or 2h: then the controller stops it and releases everything (overrides lifetime.ttl)' },
    'idle-timeout': { type: 'string', describe: 'Stop and release it after this long without a new source record (overrides lifetime.idleTimeout)' },
    parallelism: { type: 'number', describe: 'Flink parallelism (overrides the function\'s); on a running deployment, rescales its state through the savepoint' },
    'max-restarts': { type: 'number', describe: 'Flink restarts before the job fails for good and is released (default: unlimited)' },
    set: { ...SET_OPTION, describe: 'A plain setting of the function: --set name=value (repeat for more), over the target\'s "settings" in flinkfn.config.json. Secrets: export FLINKFN_SECRET_<NAME>' },
  },
  examples: [
    ['$0 deploy', 'Deploy the project in the current directory to the local stack'],
    ['$0 deploy --target prod --json', 'Deploy from CI; prints job id and record location as JSON'],
    ['$0 deploy --name pr-42-clicks --ttl 2h', 'A preview deployment that removes itself after two hours'],
    ['$0 deploy --parallelism 4', 'Upgrade the running deployment to 4 subtasks, its window state rescaled'],
    ['FLINKFN_SECRET_API_TOKEN=... $0 deploy --set customersUrl=http://customers:8080', 'Give a plain setting and a secret (apiToken); the secret goes to one S3 object the job reads, never into its configuration'],
  ],
  epilog: 'Exit codes: 0 deployed, 1 failed (rolled back; the message names the step and the remedy), 2 bug in flinkfn.',
  run: async (args, out) => {
    const { deploy } = await import('@flinkfn/deploy');
    const target = await resolveTarget(args);
    const result = await deploy({
      target,
      root: args.root,
      ...(args.entry ? { entry: args.entry } : {}),
      ...(args.name ? { name: args.name } : {}),
      fromScratch: args['from-scratch'],
      wait: args.wait,
      savepointTimeoutMs: args['savepoint-timeout'] * 1000,
      startTimeoutMs: args['start-timeout'] * 1000,
      ...(args.ttl !== undefined ? { ttlMs: durationOption(args.ttl, '--ttl') } : {}),
      ...(args['idle-timeout'] !== undefined ? { idleTimeoutMs: durationOption(args['idle-timeout'], '--idle-timeout') } : {}),
      ...(args['max-restarts'] !== undefined ? { maxRestarts: args['max-restarts'] } : {}),
      ...(args.parallelism !== undefined ? { parallelism: args.parallelism } : {}),
      settings: parseSetOptions(args.set),
      onStep: (event) => {
        if (event.phase === 'start') out.progress(`${event.step}…`);
        else out.progress(`${event.step} done${event.ms !== undefined ? ` (${event.ms} ms)` : ''}${event.detail ? `: ${event.detail}` : ''}`);
      },
      onProgress: (line) => out.progress(line),
    });
    const verb = result.upgradedFrom !== null ? `upgraded ${result.name} from v${result.upgradedFrom} to v${result.version}` : `deployed ${result.name} v${result.version}`;
    const timing = result.runningAfterMs !== null && result.submitToRunningMs !== null
      ? ` (job RUNNING after ${(result.runningAfterMs / 1000).toFixed(1)} s, every task running ${(result.submitToRunningMs / 1000).toFixed(1)} s after submission)`
      : ` (${result.state})`;
    out.info(`${verb} in ${(result.durationMs / 1000).toFixed(1)} s${timing}`);
    out.info(`  job       ${result.jobId}`);
    out.info(`  flink ui  ${result.jobUrl}`);
    out.info(`  artifact  ${result.artifact}`);
    if (result.restoredFrom) out.info(`  state     restored from ${result.restoredFrom}`);
    for (const topic of result.topics) out.info(`  topic     ${topic.topic} (${topic.role}${topic.created ? ', created' : ''})`);
    const given = [...Object.entries(result.settings).map(([k, v]) => `${k}=${v}`), ...result.secrets.map((k) => `${k} (secret)`)];
    if (given.length > 0) out.info(`  settings  ${given.join(', ')}`);
    out.info(`  record    ${result.record}`);
    if (result.expiresAt) out.info(`  expires   ${result.expiresAt} (then released by the controller)`);
    if (result.idleTimeoutMs) out.info(`  idle      released after ${Math.round(result.idleTimeoutMs / 1000)} s without input`);
    out.info(`next: flinkfn tail ${result.name} · flinkfn status ${result.name} · flinkfn destroy ${result.name}`);
    out.data({ ok: true, ...result });
  },
});

/** A duration option (`30m`, `2h`, `500ms` or milliseconds), as the SDK's declarations take them. */
function durationOption(value: string, option: string): number {
  try {
    return parseDuration(/^\d+$/.test(value) ? Number(value) : value, option);
  } catch (error) {
    throw new UserError(`${option} ${value}: ${(error as Error).message}`, 'Use a duration such as 90s, 30m or 2h.');
  }
}
