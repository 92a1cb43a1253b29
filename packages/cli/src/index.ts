/**
 * @flinkfn/cli — the `flinkfn` command line, and its commands as functions for tests and scripts.
 *
 * @example
 * import { runBuild } from '@flinkfn/cli';
 */
export { main } from './cli.js';
export { runBuild } from './commands/build.js';
export { runDev } from './commands/dev.js';
export { runInit, listTemplates, functionName } from './commands/init.js';
export { UserError, EXIT_OK, EXIT_USER_ERROR, EXIT_INTERNAL_ERROR } from './errors.js';
