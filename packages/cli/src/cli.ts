/**
 * The `flinkfn` command line. One module per command in `commands/`; this file wires them into yargs and
 * turns errors into exit codes: 0 success, 1 user error (message and hint, no stack), 2 internal error.
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { closest } from '@flinkfn/sdk/did-you-mean';
import { buildCommand } from './commands/build.js';
import { devCommand } from './commands/dev.js';
import { initCommand } from './commands/init.js';
import { deployCommand } from './commands/deploy.js';
import { destroyCommand } from './commands/destroy.js';
import { rollbackCommand } from './commands/rollback.js';
import { lsCommand } from './commands/ls.js';
import { statusCommand } from './commands/status.js';
import { logsCommand } from './commands/logs.js';
import { tailCommand } from './commands/tail.js';
import { localCommand } from './commands/local.js';
import { sendCommand } from './commands/send.js';
import { controllerCommand } from './commands/controller.js';
import { gcCommand } from './commands/gc.js';
import { dashboardCommand } from './commands/dashboard.js';
import { renderCommand } from './commands/render.js';
import { EXIT_USER_ERROR, reportError } from './errors.js';
import { stopQuietlyOnClosedPipe } from './pipe.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };
// yargs's CommonJS build: its help layout (cliui with wrap-ansi) wraps at word boundaries; the ESM build's
// cuts words in the middle.
const yargs = require('yargs/yargs') as (args: string[]) => Argv;

const COMMANDS = [
  buildCommand, devCommand, initCommand, deployCommand, renderCommand, rollbackCommand, destroyCommand, lsCommand, statusCommand,
  logsCommand, sendCommand, tailCommand, localCommand, gcCommand, controllerCommand, dashboardCommand,
];
const COMMAND_NAMES = COMMANDS.map((command) => String(command.command).split(' ')[0]!);

export async function main(rawArgv: string[]): Promise<void> {
  stopQuietlyOnClosedPipe();
  const argv = stdinValues(rawArgv);
  const json = argv.includes('--json');
  const parser = yargs(argv);
  try {
    for (const command of COMMANDS) parser.command(command as never);
    await parser
      .scriptName('flinkfn')
      .usage('$0 <command> [options]\n\nTypeScript stream functions with windows, hosted on Apache Flink.')
      // Declared for every command, so that it may come before the command too (flinkfn --json ls).
      .option('json', { type: 'boolean', global: true, describe: 'Machine-readable output on stdout' })
      .demandCommand(1, 'Name a command; see the list above.')
      .strict()
      .version(version)
      .alias('h', 'help')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((message, error) => {
        if (error) throw error;
        // Usage mistakes: unknown commands or options, missing arguments, bad choices.
        const suggestion = didYouMean(message, argv, Object.keys((parser as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key));
        if (json) process.stdout.write(JSON.stringify({ ok: false, error: { message, ...(suggestion ? { hint: suggestion } : {}) } }) + '\n');
        else process.stderr.write(`error: ${message}\n  hint: ${suggestion ?? 'run flinkfn --help, or flinkfn <command> --help'}\n`);
        process.exit(EXIT_USER_ERROR);
      })
      .parseAsync();
  } catch (error) {
    const report = reportError(error);
    if (json) process.stdout.write(JSON.stringify({ ok: false, error: report.json }) + '\n');
    else process.stderr.write(report.text);
    process.exitCode = report.code;
  }
}

/**
 * A lone `-` after an option is that option's value, standard input (`flinkfn dev --input -`, `send -i -`).
 * yargs would read it as a positional argument and leave the option empty; `--input=-` it reads right.
 */
export function stdinValues(argv: string[]): string[] {
  const result: string[] = [];
  let literal = false; // after `--` every word is an argument
  for (const arg of argv) {
    const previous = result.at(-1);
    if (!literal && arg === '-' && previous !== undefined && /^--?[A-Za-z][\w-]*$/.test(previous)) result[result.length - 1] = `${previous}=-`;
    else result.push(arg);
    if (arg === '--') literal = true;
  }
  return result;
}

/**
 * "did you mean …" for yargs's "Unknown argument(s): a, b": a command when the unknown word is the first
 * word that is not an option, otherwise an option of the command (`known`: the keys yargs knows in the
 * command's context).
 */
export function didYouMean(message: string, argv: string[], known: string[]): string | undefined {
  const options = known.filter((key) => key.length > 1 && key !== '$0' && !key.includes('_'));
  // `flinkfn --jsn ls`: an unknown option before the command takes the command as its value.
  const swallowed = argv.findIndex((arg, i) => arg.startsWith('--') && !arg.includes('=') && COMMAND_NAMES.includes(argv[i + 1] ?? ''));
  if (swallowed >= 0 && !options.includes(argv[swallowed]!.slice(2))) {
    const unknown = argv[swallowed]!.slice(2);
    const option = closest(unknown, options);
    return `--${unknown} is not an option, so "${argv[swallowed + 1]}" was read as its value${option ? `: did you mean --${option}?` : ''}`;
  }
  const match = /^Unknown arguments?: (.+)$/.exec(message);
  if (!match) return undefined;
  const firstWord = argv.find((arg) => !arg.startsWith('-'));
  const hints: string[] = [];
  for (const unknown of match[1]!.split(', ')) {
    if (unknown === firstWord) {
      const command = closest(unknown, COMMAND_NAMES);
      if (command) hints.push(`did you mean flinkfn ${command}?`);
      continue;
    }
    const option = closest(unknown, options);
    if (option) hints.push(`did you mean --${option} (not --${unknown})?`);
  }
  return hints.length > 0 ? hints.join('; ') : undefined;
}
