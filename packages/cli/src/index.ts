/**
 * flinkfn — the `flinkfn` command line, and its commands as functions for tests and scripts.
 *
 * @example
 * import { runBuild } from 'flinkfn';
 */
export { main } from './cli.js';
export { runBuild } from './commands/build.js';
export { runDev } from './commands/dev.js';
export { runInit, listTemplates, functionName } from './commands/init.js';
export { UserError, reportError, EXIT_OK, EXIT_USER_ERROR, EXIT_INTERNAL_ERROR } from './errors.js';
