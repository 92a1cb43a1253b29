/**
 * @flinkfn/sdk — declare stream functions that run on Apache Flink.
 *
 * @example
 * import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';
 */
export { defineFunction, isFunctionDefinition, FUNCTION } from './define.js';
export type { FunctionDefinition } from './define.js';
export { tumbling, sliding, session, eventTime, processingTime, to, isRouted } from './windows.js';
export { parseDuration, describeValue } from './duration.js';
export type { Duration } from './duration.js';
export { DeclarationError, isDeclarationError } from './errors.js';
export { SDK_VERSION, MANIFEST_VERSION, PROTOCOL_VERSION } from './version.js';
export { ROUTED } from './types.js';
export { ASYNC_DEFAULTS, retryable, isRetryable, retryDelay } from './async.js';
export type { AsyncDeclaration, RetryDeclaration } from './async.js';
export type * from './types.js';
export type * from './manifest.js';
export { checkMetricName, METRIC_NAME_PATTERN } from './metrics.js';
export { sliceMs, SlidingSlices, type SliceBounds } from './slices.js';
export type { MetricKind } from './metrics.js';
export { SettingsError, isSettingsError, resolveSettings, secretEnvName, SETTING_NAME_PATTERN } from './settings.js';
export type { SettingDeclaration, SettingsDeclaration, SettingsOf } from './settings.js';
