/**
 * Targets: where `flinkfn deploy` sends a function. Read from `flinkfn.config.json` (validated against
 * `schema/config.schema.json`) and overridden by FLINKFN_* environment variables, so CI needs no file.
 * With nothing configured the target is the local stack.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { closest } from '@flinkfn/sdk/did-you-mean';
import { ConfigError } from './errors.js';

const require = createRequire(import.meta.url);

export const CONFIG_FILE = 'flinkfn.config.json';
export const LOCAL_TARGET = 'local';

export interface LocalTargetConfig {
  kind: 'local';
  root?: string;
  ports?: { flinkRest?: number; kafka?: number; s3?: number };
  checkpointIntervalMs?: number;
  /** Values of functions' plain settings on this target, by name (never secrets). */
  settings?: Record<string, string>;
}

export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  usernameEnv?: string;
  passwordEnv?: string;
}

export interface RemoteTargetConfig {
  kind: 'remote';
  flink: { restUrl: string };
  kafka: { brokers: string[]; tls?: boolean; caFile?: string; taskManagerCaFile?: string; sasl?: KafkaSasl };
  s3: { bucket: string; region?: string; endpoint?: string; forcePathStyle?: boolean; prefix?: string };
  sidecarCommand: string;
  checkpointIntervalMs?: number;
  /** Values of functions' plain settings on this target, by name (never secrets). */
  settings?: Record<string, string>;
}

/** A Kubernetes cluster with the Flink Kubernetes Operator (docs/kubernetes.md); Kafka and S3 as for a remote target. */
export interface KubernetesTargetConfig {
  kind: 'kubernetes';
  namespace: string;
  /** application: a FlinkDeployment per function; session: a FlinkSessionJob per function on `sessionDeployment`. */
  mode: 'application' | 'session';
  sessionDeployment?: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  serviceAccount?: string;
  flinkVersion?: 'v2_2';
  upgradeMode?: 'savepoint' | 'last-state';
  runtimeJar?: string;
  sidecarCommand?: string;
  resources?: {
    jobManager?: { cpu?: number; memory?: string };
    taskManager?: { cpu?: number; memory?: string; slots?: number; replicas?: number };
    sidecar?: { cpu?: string; memory?: string };
  };
  flinkConfiguration?: Record<string, string>;
  /** A Secret in the namespace whose keys become the Flink containers' environment (Kafka SASL, S3 keys). */
  envSecret?: string;
  flink?: { restUrl: string };
  kafka: RemoteTargetConfig['kafka'];
  s3: RemoteTargetConfig['s3'];
  checkpointIntervalMs?: number;
  settings?: Record<string, string>;
}

export type TargetConfig = LocalTargetConfig | RemoteTargetConfig | KubernetesTargetConfig;

/** Defaults of a Kubernetes target: where the image of docs/kubernetes.md has Node, the sidecar and the runtime jar. */
export const KUBERNETES_DEFAULTS = {
  serviceAccount: 'flink',
  flinkVersion: 'v2_2',
  upgradeMode: 'savepoint',
  runtimeJar: 'local:///opt/flinkfn/flinkfn-runtime.jar',
  sidecarCommand: 'node /opt/flinkfn/node_modules/@flinkfn/sidecar/bin/flinkfn-sidecar.js',
  jobManager: { cpu: 1, memory: '2048m' },
  taskManager: { cpu: 1, memory: '2048m', slots: 1, replicas: 1 },
  sidecar: { cpu: '500m', memory: '512Mi' },
} as const;

/** A Kubernetes target with every setting decided (what the renderer in kubernetes/render.ts works from). */
export interface ResolvedKubernetes {
  namespace: string;
  mode: 'application' | 'session';
  /** Session mode: the session FlinkDeployment's name; null in application mode. */
  sessionDeployment: string | null;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never' | null;
  serviceAccount: string;
  flinkVersion: 'v2_2';
  upgradeMode: 'savepoint' | 'last-state';
  runtimeJar: string;
  resources: {
    jobManager: { cpu: number; memory: string };
    taskManager: { cpu: number; memory: string; slots: number; replicas: number };
    sidecar: { cpu: string; memory: string };
  };
  flinkConfiguration: Record<string, string>;
  envSecret: string | null;
}

export interface ConfigFile {
  defaultTarget?: string;
  targets?: Record<string, TargetConfig>;
}

/** How flinkfn and the job reach Kafka. */
export interface ResolvedKafka {
  brokers: string[];
  tls: boolean;
  sasl: KafkaSasl | null;
  /**
   * The CA certificates (PEM) this machine trusts for the brokers instead of Node's built-in list
   * (`kafka.caFile`, FLINKFN_KAFKA_CA_FILE), absolute; null: the built-in list.
   */
  caFile: string | null;
  /**
   * The same certificates as a file on every TaskManager, which the job's Kafka clients use as their trust store
   * (`ssl.truststore.type=PEM`; `kafka.taskManagerCaFile`, FLINKFN_KAFKA_TASKMANAGER_CA_FILE; default: caFile's
   * path); null: the JVM's default trust store.
   */
  taskManagerCaFile: string | null;
}

/** A target with every setting decided; what the lifecycle code works with. */
export interface ResolvedTarget {
  name: string;
  kind: 'local' | 'remote' | 'kubernetes';
  /** The operator's side of a `kubernetes` target; null for the others. */
  kubernetes: ResolvedKubernetes | null;
  /** Local stack folder (local targets only). */
  localRoot: string | null;
  localPorts: { flinkRest: number; kafka: number; s3: number };
  flinkUrl: string;
  kafka: ResolvedKafka;
  s3: {
    bucket: string;
    region: string;
    endpoint: string | null;
    forcePathStyle: boolean;
    prefix: string;
    /** Only for the local stack, whose S3 server has fixed local credentials; remote targets use the AWS chain. */
    credentials: { accessKeyId: string; secretAccessKey: string } | null;
  };
  sidecarCommand: string;
  checkpointIntervalMs: number;
  /** Values of functions' plain settings on this target (`settings` in the config file); `deploy --set` overrides them. */
  settings: Record<string, string>;
  /** Where each setting came from, for `--help`-style explanations and error messages. */
  source: string;
}

export interface LoadTargetOptions {
  /** Project directory; the config file is looked up here. */
  cwd: string;
  /** --config */
  configPath?: string;
  /** --target */
  target?: string;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_LOCAL_PORTS = { flinkRest: 8081, kafka: 9092, s3: 9000 } as const;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5_000;

/**
 * Loads the config file (if any) and the environment, and picks the target.
 *
 * @example
 * const target = await loadTarget({ cwd: process.cwd(), target: argv.target });
 */
export async function loadTarget(options: LoadTargetOptions): Promise<ResolvedTarget> {
  const env = withoutEmptyValues(options.env ?? process.env);
  const configPath = options.configPath ?? env.FLINKFN_CONFIG ?? path.join(options.cwd, CONFIG_FILE);
  const file = await readConfigFile(configPath, options.configPath !== undefined || env.FLINKFN_CONFIG !== undefined);
  const envTarget = remoteTargetFromEnv(env);
  const name = options.target ?? env.FLINKFN_TARGET ?? file?.defaultTarget ?? (envTarget ? 'env' : LOCAL_TARGET);
  const fromFile = file?.targets?.[name];
  let config: TargetConfig;
  let source: string;
  if (fromFile) {
    config = fromFile;
    source = configPath;
  } else if (name === 'env' && envTarget) {
    config = envTarget;
    source = 'environment (FLINKFN_FLINK_URL, ...)';
  } else if (name === LOCAL_TARGET) {
    config = { kind: 'local' };
    source = 'built-in local target';
  } else {
    const known = [...Object.keys(file?.targets ?? {}), LOCAL_TARGET].join(', ');
    throw new ConfigError(`no target named "${name}"`, file ? configPath : 'target', `Known targets: ${known}. Define it under "targets" in ${CONFIG_FILE}.`);
  }
  return resolve(name, config, source, options.cwd, env, fromFile ? path.dirname(path.resolve(options.cwd, configPath)) : options.cwd);
}

async function readConfigFile(file: string, required: boolean): Promise<ConfigFile | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return null;
    throw new ConfigError(`cannot read the config file (${(error as Error).message})`, file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const { line, column, problem } = syntaxError(text);
    throw new ConfigError(`is not valid JSON: ${problem}`, `${file}:${line}:${column}`, 'Fix the JSON there (no comments or trailing commas; keys and strings in double quotes).');
  }
  const validate = configValidator();
  if (!validate(parsed)) {
    throw new ConfigError(formatSchemaErrors(configErrors(validate.errors ?? [], parsed), parsed), file, 'The schema is @flinkfn/deploy/config.schema.json (a project has it at ./node_modules/flinkfn/schema/config.schema.json): point "$schema" at it for editor help.');
  }
  return parsed as ConfigFile;
}

/** Where the first JSON syntax error in `text` is (1-based line and column) and what it is (jsonc-parser, strict JSON). */
function syntaxError(text: string): { line: number; column: number; problem: string } {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  const offset = first?.offset ?? text.length;
  const before = text.slice(0, offset).split('\n');
  // "PropertyNameExpected" → "property name expected"
  const problem = first ? printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : 'unexpected end of the file';
  const found = text.slice(offset, offset + Math.max(first?.length ?? 0, 1)).trim();
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1, problem: found && offset < text.length ? `${problem}, found ${JSON.stringify(found)}` : problem };
}

const CONFIG_SCHEMA = require('../schema/config.schema.json') as { $id: string };
const TARGET_KINDS = ['local', 'remote', 'kubernetes'] as const;
let ajv: Ajv | undefined;
function configValidator(): ReturnType<Ajv['compile']> {
  // verbose: errors carry the schema they come from, for the allowed keys and values.
  ajv ??= new Ajv({ allErrors: true, strict: true, verbose: true });
  return ajv.getSchema(CONFIG_SCHEMA.$id) ?? ajv.compile(CONFIG_SCHEMA);
}

/**
 * A target is `oneOf` local, remote or kubernetes, and ajv reports the failures of both branches: one wrong value in a
 * remote target would also read as 'unknown key "flink"' from the local branch. So a target with errors is
 * validated again against the branch its own `kind` names, and those errors are the ones reported; an unknown
 * or missing kind is the one error of that target.
 */
function configErrors(errors: ErrorObject[], document: unknown): ErrorObject[] {
  configValidator();
  const result: ErrorObject[] = [];
  const targets = new Set<string>();
  for (const e of errors) {
    const target = /^\/targets\/([^/]+)/.exec(e.instancePath);
    if (target) targets.add(target[1]!);
    else if (e.keyword !== 'oneOf') result.push(e);
  }
  for (const name of targets) {
    const at = `/targets/${name}`;
    const target = valueAt(document, at);
    const kind = target !== null && typeof target === 'object' ? (target as { kind?: unknown }).kind : undefined;
    const branch = TARGET_KINDS.find((k) => k === kind);
    if (!branch) {
      result.push({ keyword: 'kind', instancePath: `${at}/kind`, schemaPath: '#/definitions', params: { allowedValues: [...TARGET_KINDS], present: kind !== undefined }, data: kind });
      continue;
    }
    const validate = ajv!.getSchema(`${CONFIG_SCHEMA.$id}#/definitions/${branch}Target`)!;
    validate(target);
    for (const e of validate.errors ?? []) result.push({ ...e, instancePath: `${at}${e.instancePath}` });
  }
  return result.length > 0 ? result : errors;
}

/**
 * Schema errors as one readable line per problem: the JSON path, the wrong value, what is allowed there, and
 * the nearest allowed name when it looks like a typo. `document` (the validated value) lets it quote values.
 */
export function formatSchemaErrors(errors: ErrorObject[], document?: unknown): string {
  // Without a document (other schemas): oneOf reports every branch; keep the most specific messages.
  const useful = document !== undefined ? errors : errors.filter((e) => e.keyword !== 'oneOf' && !(e.keyword === 'const' && e.instancePath.endsWith('/kind') && errors.length > 1));
  return (useful.length > 0 ? useful : errors)
    .map((e) => describeSchemaError(e, document))
    .filter((line, i, all) => all.indexOf(line) === i)
    .join('; ');
}

function describeSchemaError(e: ErrorObject, document: unknown): string {
  const at = e.instancePath || '(top level)';
  const value = e.data !== undefined ? e.data : document === undefined ? undefined : valueAt(document, e.instancePath);
  const quoted = value === undefined ? '' : `${JSON.stringify(value)} `;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const near = closest(key, allowed);
      const notes = [near ? `did you mean "${near}"?` : '', allowed.length ? `allowed: ${allowed.join(', ')}` : ''].filter(Boolean);
      return `${at}: unknown key "${key}"${notes.length ? ` (${notes.join(' ')})` : ''}`;
    }
    case 'kind':
    case 'enum':
    case 'const': {
      const allowed = ((params.allowedValues as unknown[] | undefined) ?? (params.allowedValue !== undefined ? [params.allowedValue] : [])).map((v) => JSON.stringify(v));
      if (e.keyword === 'kind' && !params.present) return `${at.replace(/\/kind$/, '')}: "kind" is missing (one of ${allowed.join(', ')})`;
      const near = typeof value === 'string' ? closest(value, allowed.map((v) => JSON.parse(v) as string)) : undefined;
      return `${at}: ${quoted}is not one of ${allowed.join(', ')}${near ? ` (did you mean "${near}"?)` : ''}`;
    }
    case 'pattern':
      return `${at}: ${quoted}does not match ${String(params.pattern)}`;
    case 'required':
      // The object itself would be the quoted value: its path says enough.
      return `${at}: ${e.message ?? 'misses a required property'}`;
    case 'type':
      return `${at}: ${quoted}is not ${String(params.type)}`;
    default:
      return `${at}: ${quoted}${e.message ?? "is invalid"}`;
  }
}

/** The value at a JSON pointer (RFC 6901), or undefined. */
function valueAt(document: unknown, pointer: string): unknown {
  let value = document;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

/** FLINKFN_FLINK_URL & co. describe a remote target without a config file (for CI). */
function remoteTargetFromEnv(env: NodeJS.ProcessEnv): RemoteTargetConfig | null {
  if (!env.FLINKFN_FLINK_URL) return null;
  const missing = ['FLINKFN_KAFKA_BROKERS', 'FLINKFN_S3_BUCKET', 'FLINKFN_SIDECAR_COMMAND'].filter((key) => !env[key]);
  if (missing.length > 0) {
    throw new ConfigError(`FLINKFN_FLINK_URL is set but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not`, 'environment', 'A remote target needs Flink, Kafka, S3 and the sidecar command; see docs/deploy.md.');
  }
  return {
    kind: 'remote',
    flink: { restUrl: env.FLINKFN_FLINK_URL },
    kafka: { brokers: splitList(env.FLINKFN_KAFKA_BROKERS) },
    s3: { bucket: env.FLINKFN_S3_BUCKET ?? '' },
    sidecarCommand: env.FLINKFN_SIDECAR_COMMAND ?? '',
  };
}

/** `configDir`: where relative paths in the target's config are resolved from (the config file's folder). */
function resolve(name: string, config: TargetConfig, source: string, cwd: string, env: NodeJS.ProcessEnv, configDir: string): ResolvedTarget {
  const checkpointIntervalMs = intFromEnv(env, 'FLINKFN_CHECKPOINT_INTERVAL_MS') ?? config.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (config.kind === 'local') {
    const ports = {
      flinkRest: intFromEnv(env, 'FLINKFN_LOCAL_FLINK_PORT') ?? config.ports?.flinkRest ?? DEFAULT_LOCAL_PORTS.flinkRest,
      kafka: intFromEnv(env, 'FLINKFN_LOCAL_KAFKA_PORT') ?? config.ports?.kafka ?? DEFAULT_LOCAL_PORTS.kafka,
      s3: intFromEnv(env, 'FLINKFN_LOCAL_S3_PORT') ?? config.ports?.s3 ?? DEFAULT_LOCAL_PORTS.s3,
    };
    // One stack per user, shared by all their projects (each deployment has its own record and resources):
    // stacks per project would fight over the same ports. A config `root` gives a project a stack of its own.
    const root = env.FLINKFN_LOCAL_ROOT
      ? path.resolve(env.FLINKFN_LOCAL_ROOT)
      : config.root !== undefined ? path.resolve(projectHome(cwd), config.root) : path.join(flinkfnHome(env), 'local');
    // Endpoints are filled in from the running stack (stack.json) by the local module.
    return {
      name,
      kind: 'local',
      kubernetes: null,
      localRoot: root,
      localPorts: ports,
      flinkUrl: `http://127.0.0.1:${ports.flinkRest}`,
      kafka: { brokers: [`127.0.0.1:${ports.kafka}`], tls: false, sasl: null, caFile: null, taskManagerCaFile: null },
      s3: { bucket: 'flinkfn', region: 'us-east-1', endpoint: `http://127.0.0.1:${ports.s3}`, forcePathStyle: true, prefix: '', credentials: null },
      sidecarCommand: env.FLINKFN_SIDECAR_COMMAND ?? '',
      checkpointIntervalMs,
      settings: { ...(config.settings ?? {}) },
      source,
    };
  }
  const caFile = env.FLINKFN_KAFKA_CA_FILE !== undefined ? path.resolve(cwd, env.FLINKFN_KAFKA_CA_FILE) : config.kafka.caFile !== undefined ? path.resolve(configDir, config.kafka.caFile) : null;
  const taskManagerCaFile = env.FLINKFN_KAFKA_TASKMANAGER_CA_FILE ?? config.kafka.taskManagerCaFile ?? caFile;
  if (taskManagerCaFile !== null && !path.isAbsolute(taskManagerCaFile)) {
    throw new ConfigError(`must be an absolute path on the TaskManagers, not "${taskManagerCaFile}"`, env.FLINKFN_KAFKA_TASKMANAGER_CA_FILE !== undefined ? 'FLINKFN_KAFKA_TASKMANAGER_CA_FILE' : 'kafka.taskManagerCaFile');
  }
  // A CA file means TLS; saying both "no TLS" and "trust this CA" is a mistake worth naming.
  const tlsSetting = booleanFromEnv(env, 'FLINKFN_KAFKA_TLS') ?? config.kafka.tls;
  if (tlsSetting === false && (caFile !== null || taskManagerCaFile !== null)) {
    throw new ConfigError('is false, but a CA file for TLS is set (kafka.caFile / FLINKFN_KAFKA_CA_FILE, kafka.taskManagerCaFile)', env.FLINKFN_KAFKA_TLS !== undefined ? 'FLINKFN_KAFKA_TLS' : 'kafka.tls', 'Remove the CA file settings, or set TLS to true.');
  }
  const tls = tlsSetting ?? (caFile !== null || taskManagerCaFile !== null);
  const mechanism = env.FLINKFN_KAFKA_SASL_MECHANISM ?? config.kafka.sasl?.mechanism;
  if (mechanism !== undefined && !['plain', 'scram-sha-256', 'scram-sha-512'].includes(mechanism)) {
    const near = closest(mechanism, ['plain', 'scram-sha-256', 'scram-sha-512']);
    throw new ConfigError(`must be plain, scram-sha-256 or scram-sha-512, not "${mechanism}"${near ? ` (did you mean "${near}"?)` : ''}`, env.FLINKFN_KAFKA_SASL_MECHANISM !== undefined ? 'FLINKFN_KAFKA_SASL_MECHANISM' : 'kafka.sasl.mechanism');
  }
  const kubernetes = config.kind === 'kubernetes' ? resolveKubernetes(config) : null;
  return {
    name,
    kind: config.kind,
    kubernetes,
    localRoot: null,
    localPorts: { ...DEFAULT_LOCAL_PORTS },
    // Kubernetes: the operator submits; a REST URL (session mode, through an ingress or a port-forward) serves status and logs.
    flinkUrl: (env.FLINKFN_FLINK_URL ?? config.flink?.restUrl ?? '').replace(/\/+$/, ''),
    kafka: {
      brokers: env.FLINKFN_KAFKA_BROKERS ? splitList(env.FLINKFN_KAFKA_BROKERS) : config.kafka.brokers,
      tls,
      sasl: mechanism ? { ...config.kafka.sasl, mechanism: mechanism as KafkaSasl['mechanism'] } : null,
      caFile,
      taskManagerCaFile,
    },
    s3: {
      bucket: env.FLINKFN_S3_BUCKET ?? config.s3.bucket,
      region: env.FLINKFN_S3_REGION ?? config.s3.region ?? env.AWS_REGION ?? 'us-east-1',
      endpoint: env.FLINKFN_S3_ENDPOINT ?? config.s3.endpoint ?? null,
      forcePathStyle: booleanFromEnv(env, 'FLINKFN_S3_FORCE_PATH_STYLE') ?? config.s3.forcePathStyle ?? false,
      prefix: env.FLINKFN_S3_PREFIX ?? config.s3.prefix ?? '',
      credentials: null,
    },
    sidecarCommand: env.FLINKFN_SIDECAR_COMMAND ?? config.sidecarCommand ?? KUBERNETES_DEFAULTS.sidecarCommand,
    checkpointIntervalMs,
    settings: { ...(config.settings ?? {}) },
    source,
  };
}

/** The operator's settings of a Kubernetes target, defaults filled in; what the schema cannot say is checked here. */
function resolveKubernetes(config: KubernetesTargetConfig): ResolvedKubernetes {
  if (config.mode === 'session' && config.sessionDeployment === undefined) {
    throw new ConfigError('mode "session" needs "sessionDeployment", the name of the session FlinkDeployment', 'sessionDeployment', 'Add "sessionDeployment": "<name>" to the target (flinkfn render --session-cluster prints one to apply), or use mode "application".');
  }
  if (config.mode === 'application' && config.sessionDeployment !== undefined) {
    throw new ConfigError('is only used in mode "session"', 'sessionDeployment', 'Remove it, or set "mode": "session".');
  }
  if (config.mode === 'session' && config.runtimeJar?.startsWith('local://')) {
    throw new ConfigError(`"${config.runtimeJar}" cannot be a session job's jar: the operator uploads a session job's jar to the session cluster, so it must be able to download it`, 'runtimeJar', 'Use an https:// or s3:// URI (the operator then needs its S3 plugin), or leave it out: flinkfn then uploads the jar to the target\'s bucket.');
  }
  const d = KUBERNETES_DEFAULTS;
  return {
    namespace: config.namespace,
    mode: config.mode,
    sessionDeployment: config.sessionDeployment ?? null,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy ?? null,
    serviceAccount: config.serviceAccount ?? d.serviceAccount,
    flinkVersion: config.flinkVersion ?? d.flinkVersion,
    upgradeMode: config.upgradeMode ?? d.upgradeMode,
    runtimeJar: config.runtimeJar ?? (config.mode === 'application' ? d.runtimeJar : ''),
    resources: {
      jobManager: { ...d.jobManager, ...config.resources?.jobManager },
      taskManager: { ...d.taskManager, ...config.resources?.taskManager },
      sidecar: { ...d.sidecar, ...config.resources?.sidecar },
    },
    flinkConfiguration: { ...(config.flinkConfiguration ?? {}) },
    envSecret: config.envSecret ?? null,
  };
}

/**
 * Where the local stack lives by default: the nearest folder up from `cwd` with a flinkfn.config.json or a
 * .git, so that the functions of one repository share one stack (and its ports) instead of each starting its own.
 */
/** The user's flinkfn folder: FLINKFN_HOME, or ~/.flinkfn. */
function flinkfnHome(env: NodeJS.ProcessEnv): string {
  return env.FLINKFN_HOME ? path.resolve(env.FLINKFN_HOME) : path.join(env.HOME || homedir(), '.flinkfn');
}

function projectHome(cwd: string): string {
  let dir = path.resolve(cwd);
  for (;;) {
    if (existsSync(path.join(dir, CONFIG_FILE)) || existsSync(path.join(dir, '.git'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(cwd);
    dir = parent;
  }
}

/**
 * The environment without variables set to the empty string: CI systems pass an unset secret as "" (GitHub
 * Actions does), and an empty FLINKFN_S3_REGION or FLINKFN_KAFKA_SASL_MECHANISM means "not set", not "".
 */
function withoutEmptyValues(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
}

function booleanFromEnv(env: NodeJS.ProcessEnv, key: string): boolean | undefined {
  const raw = env[key];
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigError(`must be true or false, not "${raw}"`, key);
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function intFromEnv(env: NodeJS.ProcessEnv, key: string): number | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`must be a non-negative integer, not "${raw}"`, key);
  return value;
}
