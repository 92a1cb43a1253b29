/**
 * @flinkfn/sidecar — the generic Node.js process beside a Flink TaskManager that runs a function's code
 * for the runtime job, over the protocol in `protocol.ts`.
 *
 * @example
 * import { SidecarHandler, serve } from '@flinkfn/sidecar';
 */
export * from './protocol.js';
export { SidecarHandler } from './handler.js';
export { HeldAccumulators } from './held-accumulators.js';
export { serve, privateSocketPath, SOCKET_FOLDER_PREFIX } from './server.js';
export * from './owner.js';
export * from './log-lines.js';
export type { SidecarServer } from './server.js';
