/**
 * The `flinkfn` command line. One module per command in `commands/`; this file wires them into yargs and
 * turns errors into exit codes: 0 success, 1 user error (message and hint, no stack), 2 internal error.
 */
import { createRequire } from 'node:module';
import yargs from 'yargs';
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
import { EXIT_USER_ERROR, reportError } from './errors.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  try {
    await yargs(argv)
      .scriptName('flinkfn')
      .usage('$0 <command> [options]\n\nTypeScript stream functions with windows, hosted on Apache Flink.')
      .command(buildCommand)
      .command(devCommand)
      .command(initCommand)
      .command(deployCommand)
      .command(rollbackCommand)
      .command(destroyCommand)
      .command(lsCommand)
      .command(statusCommand)
      .command(logsCommand)
      .command(sendCommand)
      .command(tailCommand)
      .command(localCommand)
      .command(gcCommand)
      .command(controllerCommand)
      .command(dashboardCommand)
      .demandCommand(1, 'Name a command; see the list above.')
      .strict()
      .version(version)
      .alias('h', 'help')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((message, error) => {
        if (error) throw error;
        // Usage mistakes: unknown options, missing arguments, bad choices.
        if (json) process.stdout.write(JSON.stringify({ ok: false, error: { message } }) + '\n');
        else process.stderr.write(`error: ${message}\n  hint: run flinkfn --help, or flinkfn <command> --help\n`);
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
