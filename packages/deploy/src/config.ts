/**
 * Targets: where `flinkfn deploy` sends a function. Read from `flinkfn.config.json` (validated against
 * `schema/config.schema.json`) and overridden by FLINKFN_* environment variables, so CI needs no file.
 * With nothing configured the target is the local stack.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError } from './errors.js';

const require = createRequire(import.meta.url);

export const CONFIG_FILE = 'flinkfn.config.json';
export const LOCAL_TARGET = 'local';

export interface LocalTargetConfig {
  kind: 'local';
  root?: string;
  ports?: { flinkRest?: number; kafka?: number; s3?: number };
  checkpointIntervalMs?: number;
}

export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  usernameEnv?: string;
  passwordEnv?: string;
}

export interface RemoteTargetConfig {
  kind: 'remote';
  flink: { restUrl: string };
  kafka: { brokers: string[]; tls?: boolean; sasl?: KafkaSasl };
  s3: { bucket: string; region?: string; endpoint?: string; forcePathStyle?: boolean; prefix?: string };
  sidecarCommand: string;
  checkpointIntervalMs?: number;
}

export type TargetConfig = LocalTargetConfig | RemoteTargetConfig;

export interface ConfigFile {
  defaultTarget?: string;
  targets?: Record<string, TargetConfig>;
}

/** A target with every setting decided; what the lifecycle code works with. */
export interface ResolvedTarget {
  name: string;
  kind: 'local' | 'remote';
  /** Local stack folder (local targets only). */
  localRoot: string | null;
  localPorts: { flinkRest: number; kafka: number; s3: number };
  flinkUrl: string;
  kafka: { brokers: string[]; tls: boolean; sasl: KafkaSasl | null };
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
  return resolve(name, config, source, options.cwd, env);
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
  } catch (error) {
    throw new ConfigError(`is not valid JSON: ${(error as Error).message}`, file);
  }
  const validate = configValidator();
  if (!validate(parsed)) {
    throw new ConfigError(formatSchemaErrors(validate.errors ?? []), file, `The schema is @flinkfn/deploy/config.schema.json; point "$schema" at it for editor help.`);
  }
  return parsed as ConfigFile;
}

let compiled: ReturnType<Ajv['compile']> | undefined;
function configValidator(): ReturnType<Ajv['compile']> {
  compiled ??= new Ajv({ allErrors: true, strict: true }).compile(require('../schema/config.schema.json') as object);
  return compiled;
}

/** Schema errors as one readable line per problem, with the JSON path. */
export function formatSchemaErrors(errors: ErrorObject[]): string {
  // oneOf over target kinds reports every branch; keep the most specific messages.
  const useful = errors.filter((e) => e.keyword !== 'oneOf' && !(e.keyword === 'const' && e.instancePath.endsWith('/kind') && errors.length > 1));
  return (useful.length > 0 ? useful : errors)
    .map((e) => {
      const at = e.instancePath || '(top level)';
      if (e.keyword === 'additionalProperties') return `${at}: unknown key "${String(e.params.additionalProperty)}"`;
      return `${at}: ${e.message ?? 'is invalid'}`;
    })
    .filter((line, i, all) => all.indexOf(line) === i)
    .join('; ');
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

function resolve(name: string, config: TargetConfig, source: string, cwd: string, env: NodeJS.ProcessEnv): ResolvedTarget {
  const checkpointIntervalMs = intFromEnv(env, 'FLINKFN_CHECKPOINT_INTERVAL_MS') ?? config.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (config.kind === 'local') {
    const ports = {
      flinkRest: intFromEnv(env, 'FLINKFN_LOCAL_FLINK_PORT') ?? config.ports?.flinkRest ?? DEFAULT_LOCAL_PORTS.flinkRest,
      kafka: intFromEnv(env, 'FLINKFN_LOCAL_KAFKA_PORT') ?? config.ports?.kafka ?? DEFAULT_LOCAL_PORTS.kafka,
      s3: intFromEnv(env, 'FLINKFN_LOCAL_S3_PORT') ?? config.ports?.s3 ?? DEFAULT_LOCAL_PORTS.s3,
    };
    const root = env.FLINKFN_LOCAL_ROOT ? path.resolve(env.FLINKFN_LOCAL_ROOT) : path.resolve(projectHome(cwd), config.root ?? '.flinkfn/local');
    // Endpoints are filled in from the running stack (stack.json) by the local module.
    return {
      name,
      kind: 'local',
      localRoot: root,
      localPorts: ports,
      flinkUrl: `http://127.0.0.1:${ports.flinkRest}`,
      kafka: { brokers: [`127.0.0.1:${ports.kafka}`], tls: false, sasl: null },
      s3: { bucket: 'flinkfn', region: 'us-east-1', endpoint: `http://127.0.0.1:${ports.s3}`, forcePathStyle: true, prefix: '', credentials: null },
      sidecarCommand: env.FLINKFN_SIDECAR_COMMAND ?? '',
      checkpointIntervalMs,
      source,
    };
  }
  const tls = booleanFromEnv(env, 'FLINKFN_KAFKA_TLS') ?? config.kafka.tls ?? false;
  const mechanism = env.FLINKFN_KAFKA_SASL_MECHANISM ?? config.kafka.sasl?.mechanism;
  if (mechanism !== undefined && !['plain', 'scram-sha-256', 'scram-sha-512'].includes(mechanism)) {
    throw new ConfigError(`FLINKFN_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512, not "${mechanism}"`, 'environment');
  }
  return {
    name,
    kind: 'remote',
    localRoot: null,
    localPorts: { ...DEFAULT_LOCAL_PORTS },
    flinkUrl: (env.FLINKFN_FLINK_URL ?? config.flink.restUrl).replace(/\/+$/, ''),
    kafka: {
      brokers: env.FLINKFN_KAFKA_BROKERS ? splitList(env.FLINKFN_KAFKA_BROKERS) : config.kafka.brokers,
      tls,
      sasl: mechanism ? { ...config.kafka.sasl, mechanism: mechanism as KafkaSasl['mechanism'] } : null,
    },
    s3: {
      bucket: env.FLINKFN_S3_BUCKET ?? config.s3.bucket,
      region: env.FLINKFN_S3_REGION ?? config.s3.region ?? env.AWS_REGION ?? 'us-east-1',
      endpoint: env.FLINKFN_S3_ENDPOINT ?? config.s3.endpoint ?? null,
      forcePathStyle: booleanFromEnv(env, 'FLINKFN_S3_FORCE_PATH_STYLE') ?? config.s3.forcePathStyle ?? false,
      prefix: env.FLINKFN_S3_PREFIX ?? config.s3.prefix ?? '',
      credentials: null,
    },
    sidecarCommand: env.FLINKFN_SIDECAR_COMMAND ?? config.sidecarCommand,
    checkpointIntervalMs,
    source,
  };
}

/**
 * Where the local stack lives by default: the nearest folder up from `cwd` with a flinkfn.config.json or a
 * .git, so that the functions of one repository share one stack (and its ports) instead of each starting its own.
 */
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
