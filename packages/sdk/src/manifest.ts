/**
 * The manifest: everything about a function except its code, as plain JSON. `flinkfn build` writes it
 * into the artifact, the Flink runtime builds its pipeline from it, `flinkfn deploy` creates and tears
 * down the resources it lists. Its JSON Schema is `schema/manifest.schema.json`; keep the two in step
 * (a test compares them).
 */
import type { Lifecycle, SourceFormat } from './types.js';

/**
 * A topic the function creates, with its lifecycle resolved.
 *
 * @example
 * const topic: ManifestTopic = { topic: 'page-views', lifecycle: 'ephemeral', partitions: 1 };
 */
export interface ManifestTopic {
  topic: string;
  lifecycle: Lifecycle;
  partitions: number;
}

/**
 * A named sink in the manifest.
 *
 * @example
 * const sink: ManifestSink = { name: 'views', topic: 'page-views', lifecycle: 'ephemeral', partitions: 1 };
 */
export interface ManifestSink extends ManifestTopic {
  name: string;
}

/**
 * Window assigner with durations in milliseconds.
 *
 * @example
 * const assigner: ManifestAssigner = { kind: 'sliding', sizeMs: 10_000, slideMs: 1_000, offsetMs: 0 };
 */
export type ManifestAssigner =
  | { kind: 'tumbling'; sizeMs: number; offsetMs: number }
  | { kind: 'sliding'; sizeMs: number; slideMs: number; offsetMs: number }
  | { kind: 'session'; gapMs: number };

/**
 * Time characteristic with durations in milliseconds.
 *
 * @example
 * const time: ManifestTime = { kind: 'event', outOfOrdernessMs: 5_000, idleTimeoutMs: null };
 */
export type ManifestTime =
  | { kind: 'event'; outOfOrdernessMs: number; idleTimeoutMs: number | null }
  | { kind: 'processing' };

/**
 * The windowed part of a function.
 *
 * @example
 * const window: ManifestWindow = {
 *   assigner: { kind: 'tumbling', sizeMs: 60_000, offsetMs: 0 },
 *   time: { kind: 'event', outOfOrdernessMs: 0, idleTimeoutMs: null },
 *   allowedLatenessMs: 0,
 *   function: 'aggregate',
 *   merges: false,
 * };
 */
export interface ManifestWindow {
  assigner: ManifestAssigner;
  time: ManifestTime;
  allowedLatenessMs: number;
  /** `aggregate` keeps one accumulator per window, `process` keeps the window's events. */
  function: 'aggregate' | 'process';
  /** Whether the accumulator defines `merge`. */
  merges: boolean;
}

/**
 * How `handle` runs when it returns a Promise (resolved from the declaration's `async`, defaults filled in).
 *
 * @example
 * const async: ManifestAsync = { capacity: 100, timeoutMs: 30_000, ordered: true, retry: { retries: 3, backoffMs: 100, maxBackoffMs: 10_000 } };
 */
export interface ManifestAsync {
  /** Events in flight at once per parallel instance. */
  capacity: number;
  /** Longest time for one event, attempts and backoffs included. */
  timeoutMs: number;
  /** Whether results leave in input order. */
  ordered: boolean;
  /** Retries of errors marked retryable; null: none. */
  retry: { retries: number; backoffMs: number; maxBackoffMs: number } | null;
}

/**
 * A declared setting: its name, whether it is a secret, and the default of a plain one (null: required). Never a
 * secret's value.
 *
 * @example
 * const setting: ManifestSetting = { name: 'customersUrl', secret: false, default: 'http://127.0.0.1:8787' };
 */
export interface ManifestSetting {
  name: string;
  secret: boolean;
  default: string | null;
  description?: string;
}

/**
 * Something a deployment of the function touches; `owned` ones are created, and removed on destroy when
 * `ephemeral`.
 *
 * @example
 * const resource: ManifestResource = { kind: 'kafka-topic', name: 'clicks', role: 'source', owned: false, lifecycle: 'retain' };
 */
export interface ManifestResource {
  kind: 'kafka-topic';
  name: string;
  role: 'source' | `sink:${string}` | 'late' | 'dead-letter';
  owned: boolean;
  lifecycle: Lifecycle;
}

/**
 * What `defineFunction` can say about itself without its code running on events.
 *
 * @example
 * const declarations: FunctionDeclarations = definition.declarations();
 */
export interface FunctionDeclarations {
  name: string;
  source: {
    topic: string;
    format: SourceFormat;
    startFrom: 'earliest' | 'latest';
    /** Created when missing, with this many partitions (a shared topic); absent or null: must exist. */
    create?: { partitions: number } | null;
    /** `latest`: bounded, the job finishes at the offsets of its start; absent or null: unbounded. */
    until?: 'latest' | null;
  };
  sinks: ManifestSink[];
  sideOutputs: { late: ManifestTopic | null; deadLetter: ManifestTopic };
  /** Whether a stateless `handle` stage runs before the window (or alone). */
  handle: boolean;
  /** How `handle` runs when it returns a Promise; present when there is a `handle` (absent in older artifacts: the defaults). */
  async?: ManifestAsync | null;
  window: ManifestWindow | null;
  parallelism: number | null;
  /** Deployment time limits; absent or null: none. */
  lifetime?: { ttlMs: number | null; idleTimeoutMs: number | null } | null;
  /** Declared settings, by name; absent: none. */
  settings?: ManifestSetting[];
  resources: ManifestResource[];
  sdkVersion: string;
}

/**
 * The complete manifest stored in an artifact.
 *
 * @example
 * const manifest: Manifest = artifact.manifest;
 */
export interface Manifest extends FunctionDeclarations {
  manifestVersion: 1;
  protocolVersion: number;
  bundle: {
    format: 'esm';
    /** sha256 (hex) of `code`. */
    sha256: string;
    bytes: number;
    /** Entry file, relative to the project root. */
    entry: string;
  };
}
