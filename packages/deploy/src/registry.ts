/**
 * The deployment registry: one JSON document per deployment (the teardown manifest) at
 * `registry/<name>.json` in the target's bucket, validated against `schema/deployment.schema.json` on
 * every read and write. Lifecycle code changes it through `Deployment` and saves it before and after
 * each resource it creates or deletes.
 */
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { ObjectStore } from './clients/object-store.js';
import { formatSchemaErrors } from './config.js';
import { DeployError } from './errors.js';
import { processRuns } from './processes.js';

const require = createRequire(import.meta.url);

export type ResourceKind = 'flink-job' | 's3-object' | 's3-prefix' | 'kafka-topic' | 'kafka-consumer-group' | 'kubernetes-object';
export type ResourceState = 'intended' | 'created' | 'deleted';
export type Lifecycle = 'ephemeral' | 'retain';

export interface TrackedResource {
  kind: ResourceKind;
  id: string;
  lifecycle: Lifecycle;
  state: ResourceState;
  version: number;
  /** Held through a lease (leases.ts): teardown detaches, and only the last detach may delete it. */
  shared?: boolean;
  /** For shared resources: what the deployment uses it as (`source`, `sink:<name>`, `artifact`, ...); `secrets`. */
  role?: string;
  /** Digest of an object's content (a version's secrets object; it holds a nonce, so this reveals no value). */
  sha256?: string;
  /**
   * A Kubernetes object's owner (`<kind>/<namespace>/<name>`, in its ownerReferences): the cluster's garbage
   * collector deletes it with the owner, and teardown deletes owners first.
   */
  ownedBy?: string;
  updatedAt: string;
}

export type VersionState = 'starting' | 'running' | 'stopped' | 'failed' | 'cancelled';

export interface DeploymentVersion {
  version: number;
  artifactId: string;
  jobId: string;
  state: VersionState;
  restoredFrom: string | null;
  savepoint: string | null;
  deployedAt: string;
  entry: string;
  /** Flink restarts before the job fails for good (0: none); absent or null: Flink's default (unlimited). */
  maxRestarts?: number | null;
  /** Parallelism the version runs with (`deploy --parallelism`); absent or null: the function's, else the cluster's. */
  parallelism?: number | null;
  /** Earlier job ids of this version, replaced when the controller resumed a lost job (newest last). */
  lostJobs?: string[];
  /** Values of the function's plain settings this version runs with (never secrets). */
  settings?: Record<string, string>;
  /** Where this version's secret values are (an s3-object resource), by digest and names, never values. */
  secrets?: VersionSecrets | null;
}

/** A version's secrets object: its key, its digest (checked by the job) and the names of the secrets in it. */
export interface VersionSecrets {
  object: string;
  sha256: string;
  names: string[];
}

export interface Operation {
  kind: 'deploy' | 'rollback' | 'destroy' | 'resume';
  startedAt: string;
  version: number | null;
  pid: number;
  host: string;
  /** Who runs it: a command, or the controller (destructor, TTL, recovery) or gc. */
  by?: 'cli' | 'controller' | 'gc';
}

/** How long a deployment may live: set at deploy (`--ttl`, `--idle-timeout`, or the function's `lifetime`). */
export interface Lifetime {
  ttlMs: number | null;
  idleTimeoutMs: number | null;
  /** createdAt + ttl of the version that set it. */
  expiresAt: string | null;
}

/** Why and when a deployment ended without a command asking for it; set before its teardown starts. */
export interface Ending {
  at: string;
  reason: 'finished' | 'cancelled' | 'failed' | 'ttl' | 'idle' | 'lost' | 'gc';
  detail: string;
}

export interface DeploymentRecord {
  format: 'flinkfn-deployment';
  formatVersion: 2;
  name: string;
  functionName: string;
  target: string;
  createdAt: string;
  updatedAt: string;
  operation: Operation | null;
  versions: DeploymentVersion[];
  current: number | null;
  resources: TrackedResource[];
  lifetime: Lifetime | null;
  ended: Ending | null;
}

export const REGISTRY_PREFIX = 'registry/';
export const DEPLOYMENT_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function registryKey(name: string): string {
  return `${REGISTRY_PREFIX}${name}.json`;
}

/** Key prefixes of a deployment's Flink state. */
export function stateKeys(name: string): { checkpoints: string; savepoints: string } {
  return { checkpoints: `deployments/${name}/checkpoints/`, savepoints: `deployments/${name}/savepoints/` };
}

export function artifactKey(artifactId: string): string {
  return `artifacts/${artifactId}.flinkfn`;
}

/** Key of a version's secrets object, next to the deployment's state (TaskManagers read it as they read checkpoints). */
export function secretsKey(name: string, version: number): string {
  return `deployments/${name}/secrets/v${version}.json`;
}

let compiled: ReturnType<Ajv['compile']> | undefined;
function validator(): ReturnType<Ajv['compile']> {
  compiled ??= new Ajv({ allErrors: true, strict: true }).compile(require('../schema/deployment.schema.json') as object);
  return compiled;
}

/** Throws when a document is not a valid deployment record; `where` names it in the message. */
export function validateRecord(value: unknown, where: string): asserts value is DeploymentRecord {
  const validate = validator();
  if (!validate(value)) {
    throw new DeployError(`${where} is not a valid deployment record: ${formatSchemaErrors(validate.errors ?? [])}`, {
      hint: 'It was changed by hand or by a newer flinkfn. Fix it, or remove it once you have deleted what it lists.',
    });
  }
}

const now = (): string => new Date().toISOString();

/** Another process changed the record between this process's read and write. */
export class RecordConflictError extends DeployError {
  constructor(where: string) {
    super(`${where} was changed by another process meanwhile`, {
      hint: 'Another flinkfn command, the controller or gc is working on this deployment; wait for it and run the command again.',
    });
  }
}

/**
 * A deployment record plus the store it lives in; every change is saved at once (write-ahead), and every
 * save is a compare-and-swap on the record's ETag, so two processes never overwrite each other's changes.
 */
export class Deployment {
  private constructor(private readonly store: ObjectStore, public record: DeploymentRecord, private etag: string | null) {}

  static async load(store: ObjectStore, name: string): Promise<Deployment | null> {
    const found = await store.getVersioned(registryKey(name));
    if (found === null) return null;
    const parsed: unknown = JSON.parse(found.text);
    validateRecord(parsed, store.uri(registryKey(name)));
    return new Deployment(store, parsed, found.etag);
  }

  /** Creates the record; null when another process created it first. */
  static async create(store: ObjectStore, fields: { name: string; functionName: string; target: string }): Promise<Deployment | null> {
    const at = now();
    const record: DeploymentRecord = {
      format: 'flinkfn-deployment',
      formatVersion: 2,
      ...fields,
      createdAt: at,
      updatedAt: at,
      operation: null,
      versions: [],
      current: null,
      resources: [],
      lifetime: null,
      ended: null,
    };
    const deployment = new Deployment(store, record, null);
    try {
      await deployment.save();
    } catch (error) {
      if (error instanceof RecordConflictError) return null;
      throw error;
    }
    return deployment;
  }

  /** Every deployment in the bucket (for `ls` and for finding artifacts that others still use). */
  static async list(store: ObjectStore): Promise<Deployment[]> {
    const keys = (await store.list(REGISTRY_PREFIX)).filter((key) => key.endsWith('.json'));
    const deployments: Deployment[] = [];
    for (const key of keys) {
      const name = key.slice(REGISTRY_PREFIX.length, -'.json'.length);
      const deployment = await Deployment.load(store, name);
      if (deployment) deployments.push(deployment);
    }
    return deployments;
  }

  get name(): string {
    return this.record.name;
  }

  get location(): string {
    return this.store.uri(registryKey(this.record.name));
  }

  async save(): Promise<void> {
    this.record.updatedAt = now();
    validateRecord(this.record, this.location);
    const etag = await this.store.putIfUnchanged(registryKey(this.record.name), JSON.stringify(this.record, null, 2) + '\n', this.etag);
    if (etag === null) throw new RecordConflictError(this.location);
    this.etag = etag;
  }

  /** Deletes the record after checking it is still the one this process last wrote. */
  async remove(): Promise<void> {
    const found = await this.store.getVersioned(registryKey(this.record.name));
    if (found && found.etag !== this.etag) throw new RecordConflictError(this.location);
    await this.store.delete(registryKey(this.record.name));
  }

  async begin(kind: Operation['kind'], version: number | null, by: NonNullable<Operation['by']> = 'cli'): Promise<void> {
    this.record.operation = { kind, startedAt: now(), version, pid: process.pid, host: hostname(), by };
    await this.save();
  }

  /**
   * Whether the operation in the record can no longer finish: its process ran on this host and is gone, or
   * it started longer ago than `staleAfterMs` (a process on another host).
   */
  operationAbandoned(staleAfterMs: number): boolean {
    const operation = this.record.operation;
    if (!operation) return false;
    if (operation.host === hostname()) return operation.pid !== process.pid && !processRuns(operation.pid);
    return Date.now() - Date.parse(operation.startedAt) > staleAfterMs;
  }

  async finish(): Promise<void> {
    this.record.operation = null;
    await this.save();
  }

  nextVersion(): number {
    return Math.max(0, ...this.record.versions.map((v) => v.version)) + 1;
  }

  version(number: number | null): DeploymentVersion | undefined {
    return number === null ? undefined : this.record.versions.find((v) => v.version === number);
  }

  get current(): DeploymentVersion | undefined {
    return this.version(this.record.current);
  }

  /** The version before the current one that can be returned to. */
  get previous(): DeploymentVersion | undefined {
    const current = this.record.current;
    return [...this.record.versions].reverse().find((v) => v.version !== current && (v.state === 'stopped' || v.state === 'cancelled') && v.version < (current ?? Infinity));
  }

  resource(kind: ResourceKind, id: string): TrackedResource | undefined {
    return this.record.resources.find((r) => r.kind === kind && r.id === id);
  }

  /** Records the intent to create a resource (saved before the resource is created). */
  async intend(kind: ResourceKind, id: string, options: { lifecycle: Lifecycle; version: number; shared?: boolean; role?: string; sha256?: string; ownedBy?: string }): Promise<TrackedResource> {
    const { role, lifecycle, sha256, ownedBy, ...rest } = options;
    const [resource] = await this.intendAll(kind, [id], { ...rest, lifecycle: () => lifecycle, ...(role ? { role: () => role } : {}), ...(sha256 ? { sha256: () => sha256 } : {}), ...(ownedBy ? { ownedBy: () => ownedBy } : {}) });
    return resource!;
  }

  /** Records the intent to create several resources with one write. */
  async intendAll(kind: ResourceKind, ids: string[], options: { lifecycle: (id: string) => Lifecycle; version: number; shared?: boolean; role?: (id: string) => string; sha256?: (id: string) => string; ownedBy?: (id: string) => string | undefined }): Promise<TrackedResource[]> {
    const resources: TrackedResource[] = [];
    for (const id of ids) {
      const existing = this.resource(kind, id);
      if (existing && existing.state !== 'deleted') {
        resources.push(existing);
        continue;
      }
      const resource: TrackedResource = {
        kind,
        id,
        lifecycle: options.lifecycle(id),
        state: 'intended',
        version: options.version,
        ...(options.shared ? { shared: true } : {}),
        ...(options.role ? { role: options.role(id) } : {}),
        ...(options.sha256 ? { sha256: options.sha256(id) } : {}),
        ...(options.ownedBy?.(id) ? { ownedBy: options.ownedBy(id)! } : {}),
        updatedAt: now(),
      };
      if (existing) Object.assign(existing, resource);
      else this.record.resources.push(resource);
      resources.push(existing ?? resource);
    }
    await this.save();
    return resources;
  }

  async mark(resource: TrackedResource | TrackedResource[], state: ResourceState): Promise<void> {
    for (const r of Array.isArray(resource) ? resource : [resource]) {
      r.state = state;
      r.updatedAt = now();
    }
    await this.save();
  }

  async addVersion(version: DeploymentVersion): Promise<void> {
    this.record.versions.push(version);
    await this.save();
  }

  async setVersionState(version: DeploymentVersion, state: VersionState, changes: Partial<DeploymentVersion> = {}): Promise<void> {
    Object.assign(version, changes, { state });
    await this.save();
  }

  /** Resources that may still exist (intended ones too: a crash may have happened right after creating them). */
  live(kind?: ResourceKind): TrackedResource[] {
    return this.record.resources.filter((r) => r.state !== 'deleted' && (kind === undefined || r.kind === kind));
  }
}
