/**
 * @flinkfn/dashboard — `flinkfn dashboard`: a web page of a target's deployments, live windowed results
 * (Server-Sent Events, upserted by key and window), late events and dead letters, and ad-hoc queries that
 * live on a viewer lease. The stream endpoints are documented in docs/dashboard.md.
 *
 * @example
 * const dashboard = await startDashboard({ target: await loadTarget({ cwd: '.' }), root: '.' });
 * console.log(dashboard.url);
 */
export { startDashboard, QUERY_CHECKPOINT_INTERVAL_MS } from './server.js';
export type { Dashboard, DashboardOptions } from './server.js';
export { checkBinding, isLoopback, TOKEN_COOKIE } from './access.js';
export { DashboardError } from './errors.js';
export { upsertKey, windowFieldsOf, windowBounds, WINDOW_FIELDS } from './upsert.js';
export { openReader, streamTopics, READER_GROUP_PREFIX } from './results.js';
export type { StreamEvent, StreamTopics, Reader, ReaderOptions } from './results.js';
export { Queries, QUERY_PREFIX } from './queries.js';
export type { QueryEvent, QueryFailure } from './queries.js';
export type { DeploymentRow, Snapshot } from './deployments.js';
