/**
 * `flinkfn render [entry] --target <kubernetes target>`: print the Flink Kubernetes Operator manifests a deploy
 * would apply (YAML, or --json), without a cluster; `--session-cluster` prints the session FlinkDeployment.
 */
import { defineCommand } from '../command.js';
import { parseSetOptions, SET_OPTION } from '../settings-options.js';
import { resolveTarget } from '../target-options.js';

export const renderCommand = defineCommand({
  command: 'render [entry]',
  describe: 'Print the Kubernetes manifests (FlinkDeployment or FlinkSessionJob) a deploy to a kubernetes target applies',
  target: true,
  positionals: { entry: { type: 'string', describe: 'Handler module (default: as for flinkfn build)' } },
  options: {
    name: { type: 'string', describe: 'Deployment name (default: the function name)' },
    parallelism: { type: 'number', describe: 'Flink parallelism (overrides the function\'s)' },
    'max-restarts': { type: 'number', describe: 'Flink restarts before the job fails for good' },
    'session-cluster': { type: 'boolean', default: false, describe: 'Print the session FlinkDeployment of a session-mode target instead (apply it once)' },
    set: { ...SET_OPTION, describe: 'A plain setting of the function: --set name=value, as for deploy' },
  },
  examples: [
    ['$0 render --target k8s', 'The FlinkDeployment and artifact ConfigMap of the function, as YAML'],
    ['$0 render --target k8s | kubectl apply --dry-run=server -f -', 'Let the cluster validate them without creating anything'],
    ['$0 render --target k8s-session --session-cluster | kubectl apply -f -', 'Create the session cluster that session-mode functions run on'],
  ],
  epilog: 'Only the owner references (the owner\'s uid) and the secrets object\'s digest are filled in at deploy; notes on stderr say which.',
  run: async (args, out) => {
    const { renderManifests, renderSessionManifests, toYaml } = await import('@flinkfn/deploy');
    const target = await resolveTarget(args);
    const result = args['session-cluster']
      ? renderSessionManifests(target)
      : await renderManifests({
          target,
          root: args.root,
          ...(args.entry ? { entry: args.entry } : {}),
          ...(args.name ? { name: args.name } : {}),
          ...(args.parallelism !== undefined ? { parallelism: args.parallelism } : {}),
          ...(args['max-restarts'] !== undefined ? { maxRestarts: args['max-restarts'] } : {}),
          settings: parseSetOptions(args.set),
        });
    if (!out.json) process.stdout.write(toYaml(result.objects));
    for (const note of result.notes) if (!out.json) out.warn(`note: ${note}`);
    out.data({ ok: true, objects: result.objects, notes: result.notes });
  },
});
