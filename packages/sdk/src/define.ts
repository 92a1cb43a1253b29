import { describeValue, parseDuration } from './duration.js';
import { validateAsync } from './async.js';
import { closest } from './did-you-mean.js';
import { DeclarationError } from './errors.js';
import type {
  FunctionDeclarations,
  ManifestAssigner,
  ManifestResource,
  ManifestSink,
  ManifestTime,
  ManifestTopic,
  ManifestWindow,
} from './manifest.js';
import type { FunctionSpec } from './types.js';
import { validateSettings, type SettingsDeclaration } from './settings.js';
import { SDK_VERSION } from './version.js';

/** Marks function definitions; a registered symbol so the bundled SDK and the host's agree. */
export const FUNCTION: unique symbol = Symbol.for('flinkfn.function') as never;

/**
 * A validated function declaration, ready to be the default export of a handler module.
 *
 * @example
 * const definition: FunctionDefinition = defineFunction(spec);
 * definition.declarations().window?.assigner.kind;
 */
export interface FunctionDefinition<In = unknown, E = unknown, A = unknown, R = unknown, S extends SettingsDeclaration = SettingsDeclaration> {
  readonly [FUNCTION]: true;
  readonly spec: FunctionSpec<In, E, A, R, S>;
  /** The declarations as manifest data (durations in ms, defaults filled in). */
  declarations(): FunctionDeclarations;
}

/**
 * Declares a stream function. Validates everything that can be checked without events and throws a
 * {@link DeclarationError} naming the option, what is wrong and how to fix it. Unknown keys are errors.
 *
 * @example
 * import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';
 *
 * export default defineFunction({
 *   name: 'page-views',
 *   source: { topic: 'clicks', format: 'json' },
 *   sinks: { views: { topic: 'page-views' } },
 *   key: (click: { page: string; ts: number }) => click.page,
 *   time: eventTime({ timestamp: (click: { ts: number }) => click.ts, outOfOrderness: '5s' }),
 *   window: tumbling('1m'),
 *   aggregate: {
 *     create: () => 0,
 *     add: (views: number) => views + 1,
 *     merge: (a, b) => a + b,
 *     result: (views, { key, window }) => ({ page: key, start: window.start, views }),
 *   },
 * });
 */
export function defineFunction<In, E, A, R, const S extends SettingsDeclaration = Record<never, never>>(
  spec: FunctionSpec<In, E, A, R, S>,
): FunctionDefinition<In, E, A, R, S>;
export function defineFunction(spec: unknown): unknown {
  const declarations = validate(spec);
  const definition: FunctionDefinition = {
    [FUNCTION]: true,
    spec: spec as FunctionSpec,
    declarations: () => structuredClone(declarations),
  };
  return Object.freeze(definition);
}

/**
 * Whether `value` is what {@link defineFunction} returns (from any copy of the SDK).
 *
 * @example
 * if (!isFunctionDefinition(module.default)) throw new Error('default export is not a function definition');
 */
export function isFunctionDefinition(value: unknown): value is FunctionDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<PropertyKey, unknown>)[FUNCTION] === true &&
    typeof (value as { declarations?: unknown }).declarations === 'function'
  );
}

// --- validation -------------------------------------------------------------------------------

const TOP_KEYS = [
  'name', 'source', 'sinks', 'deadLetter', 'parallelism', 'lifetime', 'handle', 'async',
  'key', 'time', 'window', 'allowedLateness', 'late', 'aggregate', 'process', 'settings',
] as const;
const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const TOPIC_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;
const SINK_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;

type Bag = Record<string, unknown>;

function validate(input: unknown): FunctionDeclarations {
  const spec = expectObject(input, '', 'Pass an object: defineFunction({ name, source, sinks, ... }).');
  checkKeys(spec, TOP_KEYS, '');

  const name = expectString(spec['name'], 'name', `Give the function a name such as 'page-views'.`);
  if (!NAME_PATTERN.test(name)) {
    throw new DeclarationError('name', `'${name}' is not a valid function name`,
      'Use lower-case letters, digits and dashes, starting with a letter (at most 63 characters).', name);
  }

  const source = validateSource(spec['source']);
  const sinks = validateSinks(spec['sinks']);
  const deadLetter = validateTopic(spec['deadLetter'] ?? { topic: `${name}-dead-letter` }, 'deadLetter');
  const parallelism = validateParallelism(spec['parallelism']);
  const lifetime = validateLifetime(spec['lifetime']);
  const settings = validateSettings(spec['settings']);
  const handle = optionalFunction(spec['handle'], 'handle');
  if (spec['async'] !== undefined && !handle) {
    throw new DeclarationError('async', `'async' configures handle, and no handle is declared`,
      'Only handle may be async (window callbacks must return their values directly); add handle or remove async.');
  }
  const async = handle ? validateAsync(spec['async']) : null;

  const windowed = spec['window'] !== undefined;
  let window: ManifestWindow | null = null;
  let late: ManifestTopic | null = null;
  if (windowed) {
    ({ window, late } = validateWindowed(spec));
  } else {
    for (const key of ['key', 'time', 'allowedLateness', 'late', 'aggregate', 'process'] as const) {
      if (spec[key] !== undefined) {
        throw new DeclarationError(key, `'${key}' only applies to windowed functions, and no 'window' is declared`,
          `Add a window (for example window: tumbling('1m')) or remove '${key}'.`);
      }
    }
    if (!handle) {
      throw new DeclarationError('handle', 'a function without a window needs a handle function',
        'Add handle: (event) => ... (return nothing to drop an event, a value, or an array), or declare a window.');
    }
  }

  const created: Array<[ManifestTopic, ManifestResource['role']]> = sinks.map((s) => [s, `sink:${s.name}`]);
  if (late) created.push([late, 'late']);
  created.push([deadLetter, 'dead-letter']);
  const seen = new Map<string, string>([[source.topic, 'source']]);
  for (const [topic, role] of created) {
    const other = seen.get(topic.topic);
    if (other) {
      throw new DeclarationError(role === 'dead-letter' ? 'deadLetter' : role === 'late' ? 'late' : `sinks.${role.slice(5)}`,
        `topic '${topic.topic}' is already used as the ${other} topic`,
        'Give every output its own topic; writing to the source topic would feed results back into the function.',
        topic.topic);
    }
    seen.set(topic.topic, role);
  }

  const resources: ManifestResource[] = [
    { kind: 'kafka-topic', name: source.topic, role: 'source', owned: false, lifecycle: source.create ? 'ephemeral' : 'retain' },
    ...created.map(([topic, role]): ManifestResource => ({
      kind: 'kafka-topic', name: topic.topic, role, owned: true, lifecycle: topic.lifecycle,
    })),
  ];

  return {
    name,
    source,
    sinks,
    sideOutputs: { late, deadLetter },
    handle: handle !== undefined,
    ...(async ? { async } : {}),
    window,
    parallelism,
    ...(lifetime ? { lifetime } : {}),
    ...(settings.length > 0 ? { settings } : {}),
    resources,
    sdkVersion: SDK_VERSION,
  };
}

function validateLifetime(value: unknown): FunctionDeclarations['lifetime'] {
  if (value === undefined) return undefined;
  const lifetime = expectObject(value, 'lifetime', `For example lifetime: { ttl: '2h', idleTimeout: '15m' }.`);
  checkKeys(lifetime, ['ttl', 'idleTimeout'], 'lifetime');
  const ttlMs = lifetime['ttl'] === undefined ? null : parseDuration(lifetime['ttl'], 'lifetime.ttl');
  const idleTimeoutMs = lifetime['idleTimeout'] === undefined ? null : parseDuration(lifetime['idleTimeout'], 'lifetime.idleTimeout');
  return { ttlMs, idleTimeoutMs };
}

function validateSource(value: unknown): FunctionDeclarations['source'] {
  const hint = `Declare the topic to read, for example source: { topic: 'clicks', format: 'json' }.`;
  const source = expectObject(value, 'source', hint);
  checkKeys(source, ['topic', 'format', 'startFrom', 'create', 'until'], 'source');
  const topic = expectTopicName(source['topic'], 'source.topic');
  const format = source['format'] ?? 'json';
  if (format !== 'json' && format !== 'string' && format !== 'bytes') {
    throw new DeclarationError('source.format', `${describeValue(format)} is not a source format`,
      `Use 'json', 'string' or 'bytes'.`, format);
  }
  const startFrom = source['startFrom'] ?? 'earliest';
  if (startFrom !== 'earliest' && startFrom !== 'latest') {
    throw new DeclarationError('source.startFrom', `${describeValue(startFrom)} is not a start position`,
      `Use 'earliest' or 'latest'.`, startFrom);
  }
  const create = validateSourceCreate(source['create']);
  const until = source['until'];
  if (until !== undefined && until !== 'latest') {
    throw new DeclarationError('source.until', `${describeValue(until)} is not an end position`,
      `Use 'latest' for a bounded function that stops at the offsets of its start, or leave it out.`, until);
  }
  return { topic, format, startFrom, ...(create ? { create } : {}), ...(until ? { until } : {}) };
}

function validateSourceCreate(value: unknown): { partitions: number } | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { partitions: 1 };
  const create = expectObject(value, 'source.create', `Use create: true, or create: { partitions: 4 }.`);
  checkKeys(create, ['partitions'], 'source.create');
  const partitions = create['partitions'] ?? 1;
  if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) {
    throw new DeclarationError('source.create.partitions', `${describeValue(partitions)} is not a partition count`,
      'Use a whole number of at least 1.', partitions);
  }
  return { partitions };
}

function validateSinks(value: unknown): ManifestSink[] {
  const hint = `Name at least one output topic, for example sinks: { results: { topic: 'page-views' } }.`;
  const sinks = expectObject(value, 'sinks', hint);
  const names = Object.keys(sinks);
  if (names.length === 0) throw new DeclarationError('sinks', 'no sinks are declared', hint);
  return names.map((sinkName) => {
    if (!SINK_NAME_PATTERN.test(sinkName)) {
      throw new DeclarationError(`sinks.${sinkName}`, `'${sinkName}' is not a valid sink name`,
        'Use letters, digits, dashes and underscores, starting with a letter.', sinkName);
    }
    return { name: sinkName, ...validateTopic(sinks[sinkName], `sinks.${sinkName}`) };
  });
}

function validateTopic(value: unknown, path: string): ManifestTopic {
  const topic = expectObject(value, path, `Write ${path}: { topic: 'name', lifecycle: 'ephemeral' | 'retain' }.`);
  checkKeys(topic, ['topic', 'lifecycle', 'partitions'], path);
  const name = expectTopicName(topic['topic'], `${path}.topic`);
  const lifecycle = topic['lifecycle'] ?? 'ephemeral';
  if (lifecycle !== 'ephemeral' && lifecycle !== 'retain') {
    throw new DeclarationError(`${path}.lifecycle`, `${describeValue(lifecycle)} is not a lifecycle`,
      `Use 'ephemeral' (deleted with the function, the default) or 'retain' (kept).`, lifecycle);
  }
  const partitions = topic['partitions'] ?? 1;
  if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) {
    throw new DeclarationError(`${path}.partitions`, `${describeValue(partitions)} is not a partition count`,
      'Use a whole number of at least 1.', partitions);
  }
  return { topic: name, lifecycle, partitions };
}

function validateParallelism(value: unknown): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new DeclarationError('parallelism', `${describeValue(value)} is not a parallelism`,
      'Use a whole number of at least 1, or leave it out to use the cluster default.', value);
  }
  return value;
}

function validateWindowed(spec: Bag): { window: ManifestWindow; late: ManifestTopic | null } {
  if (spec['key'] === undefined) {
    throw new DeclarationError('key', 'a windowed function needs a key',
      'Add key: (event) => event.someField; windows are computed per key (use a constant to window all events together).');
  }
  optionalFunction(spec['key'], 'key');
  const time = validateTime(spec['time']);
  const assigner = validateAssigner(spec['window']);

  const allowedLatenessMs = spec['allowedLateness'] === undefined ? 0 : parseDuration(spec['allowedLateness'], 'allowedLateness');
  if (time.kind === 'processing' && allowedLatenessMs > 0) {
    throw new DeclarationError('allowedLateness', 'allowed lateness only applies to event time',
      'Remove allowedLateness, or use time: eventTime({ timestamp: ... }).', spec['allowedLateness']);
  }
  let late: ManifestTopic | null = null;
  if (spec['late'] !== undefined) {
    if (time.kind === 'processing') {
      throw new DeclarationError('late', 'with processing time no event is ever late',
        'Remove late, or use time: eventTime({ timestamp: ... }).');
    }
    late = validateTopic(spec['late'], 'late');
  }

  const hasAggregate = spec['aggregate'] !== undefined;
  const hasProcess = spec['process'] !== undefined;
  if (hasAggregate && hasProcess) {
    throw new DeclarationError('process', `declare either 'aggregate' or 'process', not both`,
      'Use aggregate for incremental results (create/add/merge/result) or process for whole-window logic.');
  }
  if (!hasAggregate && !hasProcess) {
    throw new DeclarationError('aggregate', 'a windowed function needs aggregate or process',
      'Add aggregate: { create, add, merge, result } or process: (events, { key, window }) => ....');
  }
  let merges = false;
  if (hasAggregate) {
    const aggregate = expectObject(spec['aggregate'], 'aggregate', 'Write aggregate: { create, add, merge, result }.');
    checkKeys(aggregate, ['create', 'add', 'merge', 'result'], 'aggregate');
    for (const fn of ['create', 'add', 'result'] as const) {
      if (aggregate[fn] === undefined) {
        throw new DeclarationError(`aggregate.${fn}`, `the accumulator has no ${fn} function`,
          'An accumulator needs create: () => initial, add: (acc, event) => acc, result: (acc, { key, window }) => output.');
      }
      optionalFunction(aggregate[fn], `aggregate.${fn}`);
    }
    merges = optionalFunction(aggregate['merge'], 'aggregate.merge') !== undefined;
    if (assigner.kind === 'session' && !merges) {
      throw new DeclarationError('aggregate.merge', 'session windows need a merge function',
        'Sessions merge when an event bridges two of them; add merge: (a, b) => combined accumulator.');
    }
  } else {
    optionalFunction(spec['process'], 'process');
  }

  return {
    window: {
      assigner,
      time,
      allowedLatenessMs,
      function: hasAggregate ? 'aggregate' : 'process',
      merges,
    },
    late,
  };
}

function validateTime(value: unknown): ManifestTime {
  const hint = `Use time: eventTime({ timestamp: (e) => e.ts, outOfOrderness: '5s' }) or time: processingTime().`;
  if (value === undefined) throw new DeclarationError('time', 'a windowed function needs a time characteristic', hint);
  const time = expectObject(value, 'time', hint);
  if (time['kind'] === 'processing') {
    checkKeys(time, ['kind'], 'time');
    return { kind: 'processing' };
  }
  if (time['kind'] !== 'event') {
    throw new DeclarationError('time.kind', `${describeValue(time['kind'])} is not a time characteristic`, hint, time['kind']);
  }
  checkKeys(time, ['kind', 'timestamp', 'outOfOrderness', 'idleTimeout'], 'time');
  if (time['timestamp'] === undefined) {
    throw new DeclarationError('time.timestamp', 'event time needs a timestamp extractor',
      'Add timestamp: (event) => event.ts (epoch milliseconds or a Date).');
  }
  optionalFunction(time['timestamp'], 'time.timestamp');
  return {
    kind: 'event',
    outOfOrdernessMs: time['outOfOrderness'] === undefined ? 0 : parseDuration(time['outOfOrderness'], 'time.outOfOrderness'),
    idleTimeoutMs: time['idleTimeout'] === undefined
      ? null
      : parseDuration(time['idleTimeout'], 'time.idleTimeout', { allowZero: false }),
  };
}

function validateAssigner(value: unknown): ManifestAssigner {
  const hint = `Use window: tumbling('1m'), sliding('10s', '1s') or session('30m').`;
  const window = expectObject(value, 'window', hint);
  switch (window['kind']) {
    case 'tumbling': {
      checkKeys(window, ['kind', 'size', 'offset'], 'window');
      const sizeMs = parseDuration(window['size'], 'window.size', { allowZero: false });
      const offsetMs = window['offset'] === undefined ? 0 : parseDuration(window['offset'], 'window.offset');
      if (offsetMs >= sizeMs) {
        throw new DeclarationError('window.offset', `offset ${offsetMs} ms is not smaller than the size ${sizeMs} ms`,
          'The offset shifts window starts within one window; use a value below the size.', window['offset']);
      }
      return { kind: 'tumbling', sizeMs, offsetMs };
    }
    case 'sliding': {
      checkKeys(window, ['kind', 'size', 'slide', 'offset'], 'window');
      const sizeMs = parseDuration(window['size'], 'window.size', { allowZero: false });
      const slideMs = parseDuration(window['slide'], 'window.slide', { allowZero: false });
      const offsetMs = window['offset'] === undefined ? 0 : parseDuration(window['offset'], 'window.offset');
      if (offsetMs >= slideMs) {
        throw new DeclarationError('window.offset', `offset ${offsetMs} ms is not smaller than the slide ${slideMs} ms`,
          'The offset shifts window starts within one slide; use a value below the slide.', window['offset']);
      }
      return { kind: 'sliding', sizeMs, slideMs, offsetMs };
    }
    case 'session': {
      checkKeys(window, ['kind', 'gap'], 'window');
      return { kind: 'session', gapMs: parseDuration(window['gap'], 'window.gap', { allowZero: false }) };
    }
    default:
      throw new DeclarationError('window.kind', `${describeValue(window['kind'])} is not a window kind`, hint, window['kind']);
  }
}

// --- small checks -----------------------------------------------------------------------------

function expectObject(value: unknown, path: string, hint: string): Bag {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DeclarationError(path, value === undefined ? 'is missing' : `expected an object, got ${describeValue(value)}`, hint);
  }
  return value as Bag;
}

function expectString(value: unknown, path: string, hint: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new DeclarationError(path, value === undefined ? 'is missing' : `expected a string, got ${describeValue(value)}`, hint, value);
  }
  return value;
}

function expectTopicName(value: unknown, path: string): string {
  const topic = expectString(value, path, `Name a Kafka topic, for example '${path.startsWith('source') ? 'clicks' : 'results'}'.`);
  if (!TOPIC_PATTERN.test(topic) || topic === '.' || topic === '..') {
    throw new DeclarationError(path, `'${topic}' is not a valid Kafka topic name`,
      'Use at most 249 letters, digits, dots, dashes and underscores.', topic);
  }
  return topic;
}

function optionalFunction(value: unknown, path: string): ((...args: never[]) => unknown) | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new DeclarationError(path, `expected a function, got ${describeValue(value)}`,
      `Write ${path} as a function, for example (event) => ....`, value);
  }
  return value as (...args: never[]) => unknown;
}

function checkKeys(object: Bag, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      const suggestion = closest(key, allowed);
      throw new DeclarationError(path ? `${path}.${key}` : key, `unknown option '${key}'`,
        suggestion ? `Did you mean '${suggestion}'? Known options here: ${allowed.join(', ')}.`
          : `Known options here: ${allowed.join(', ')}.`, key);
    }
  }
}
