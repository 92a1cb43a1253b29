/**
 * Options every command that talks to a target shares: --target, --config, --json, and how they become
 * a resolved target.
 */
import type { Argv } from 'yargs';
import type { ResolvedTarget } from '@flinkfn/deploy';

export interface TargetArgs {
  target?: string;
  config?: string;
  root: string;
  json: boolean;
}

export function withTargetOptions<T>(yargs: Argv<T>): Argv<T & TargetArgs> {
  return yargs
    .option('target', { type: 'string', describe: 'Target from flinkfn.config.json (env FLINKFN_TARGET; default: local)' })
    .option('config', { type: 'string', describe: 'Config file (env FLINKFN_CONFIG; default <root>/flinkfn.config.json)' })
    .option('root', { type: 'string', default: '.', describe: 'Project directory' })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output on stdout' }) as Argv<T & TargetArgs>;
}

export async function resolveTarget(args: TargetArgs): Promise<ResolvedTarget> {
  const { loadTarget } = await import('@flinkfn/deploy');
  return loadTarget({ cwd: args.root, ...(args.target ? { target: args.target } : {}), ...(args.config ? { configPath: args.config } : {}) });
}
