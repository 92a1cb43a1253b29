/**
 * @flinkfn/bundler — turns a handler module into a content-addressed artifact.
 *
 * @example
 * import { build } from '@flinkfn/bundler';
 */
export { build } from './build.js';
export type { BuildOptions, BuildResult } from './build.js';
export { BuildError, formatDiagnostics, locateInSource } from './diagnostics.js';
export type { Diagnostic } from './diagnostics.js';
