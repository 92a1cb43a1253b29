/**
 * `defineCommand`: one declaration per command, its argument types inferred from its options (as wrangler's
 * `createCommand` does), so a command module is its options and what it runs, with no hand-kept `Args`
 * interface and no casts. Commands that talk to a target say `target: true` and get the shared project options
 * (--target, --config, --root) and a resolved-target helper; every command gets `--json` and an `Output`.
 *
 * @example
 * export const lsCommand = defineCommand({
 *   command: 'ls', describe: 'List the deployments of a target', target: true,
 *   options: { all: { type: 'boolean', default: false, describe: 'Include ended deployments' } },
 *   run: async (args, out) => out.data(await list(await resolveTarget(args), { all: args.all })),
 * });
 */
import type { Argv, CommandModule, InferredOptionTypes, Options, PositionalOptions } from 'yargs';
import { createOutput, type Output } from './output.js';
import { withTargetOptions, type TargetArgs } from './target-options.js';

/** What a command's `run` receives: its positionals and options, typed from their declarations. */
export type CommandArgs<P extends Record<string, PositionalOptions>, O extends Record<string, Options>, T extends boolean> =
  InferredOptionTypes<P> & InferredOptionTypes<O> & (T extends true ? TargetArgs : { json: boolean });

export interface CommandSpec<P extends Record<string, PositionalOptions>, O extends Record<string, Options>, T extends boolean> {
  /** The command and its positionals as yargs writes them: `status <name>`, `deploy [entry]`. */
  command: string;
  describe: string;
  /** Declarations of the positionals named in `command`. */
  positionals?: P;
  options?: O;
  /** The command talks to a target: --target, --config and --root are added. */
  target?: T;
  examples?: ReadonlyArray<readonly [command: string, description: string]>;
  epilog?: string;
  /** For what declarations cannot say (checks across options, options hidden from help). */
  refine?: (yargs: Argv) => Argv;
  run: (args: CommandArgs<P, O, T>, out: Output) => Promise<void>;
}

export function defineCommand<
  const P extends Record<string, PositionalOptions> = Record<never, PositionalOptions>,
  const O extends Record<string, Options> = Record<never, Options>,
  const T extends boolean = false,
>(spec: CommandSpec<P, O, T>): CommandModule<object, CommandArgs<P, O, T>> {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: (yargs) => {
      let built: Argv = spec.target ? withTargetOptions(yargs) : yargs;
      for (const [name, declaration] of Object.entries(spec.positionals ?? {})) built = built.positional(name, declaration);
      built = built.options(spec.options ?? {});
      for (const [command, description] of spec.examples ?? []) built = built.example(command, description);
      if (spec.epilog) built = built.epilog(spec.epilog);
      return (spec.refine ? spec.refine(built) : built) as Argv<CommandArgs<P, O, T>>;
    },
    // `--json` is declared globally (cli.ts), so it may come before the command; absent, it is false. yargs types
    // the parsed arguments with camel-case aliases added; they hold every declared key, which is what run asks for.
    handler: (args) => spec.run({ ...args, json: args.json === true } as unknown as CommandArgs<P, O, T>, createOutput(args.json === true)),
  };
}
