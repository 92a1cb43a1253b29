/**
 * Shared resources: deployments attach to them and detach from them, and the last detach releases them.
 *
 * A Kafka topic (a source several functions read, one function's sink that another reads) and a
 * content-addressed artifact can be used by several deployments at once. Each has one lease document at
 * `leases/<kind>/<id>.json` in the target's bucket that says who holds it and whether flinkfn created it.
 * The rules:
 * - Only a resource flinkfn created (`createdByFlinkfn`) is ever deleted, only when it is `ephemeral`, and
 *   only by the detach that leaves no holder. A topic that existed before flinkfn touched it is never deleted.
 * - Every change is a compare-and-swap of the lease (S3 If-Match / If-None-Match), so attaches, detaches and
 *   teardowns running at the same moment on different machines serialise on the document, not on a lock file.
 * - The lease is written before the resource is created (state `creating`) and before it is deleted (state
 *   `releasing`, no holders): an attacher that finds `releasing` waits until the lease is gone and creates the
 *   resource anew. A `creating` or `releasing` lease left by a writer that died is taken over: at once when the
 *   writer was a process on this host that no longer runs (never while it runs), and after `STALE_MS` when
 *   it was on another host.
 * - S3Proxy answers a conditional DELETE with 501, so a lease is deleted unconditionally, and only by the writer
 *   of its `releasing` state after re-reading it (the window between that read and the delete is the one
 *   place a writer stalled for longer than `STALE_MS` could race a takeover; killed processes cannot).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore } from './clients/object-store.js';
import { DeployError } from './errors.js';
import { processRuns } from './processes.js';
import type { Lifecycle } from './registry.js';

export type SharedKind = 'kafka-topic' | 's3-object';

export interface Holder {
  deployment: string;
  /** What the deployment uses it as: `source`, `sink:<name>`, `late`, `dead-letter`, `artifact`. */
  role: string;
  since: string;
}

export interface Lease {
  format: 'flinkfn-lease';
  formatVersion: 1;
  kind: SharedKind;
  id: string;
  /** flinkfn created the resource; only then may it delete it. */
  createdByFlinkfn: boolean;
  /** The deployment whose attach created it (null when it existed before). */
  createdBy: string | null;
  /** `retain` once any holder asked to keep it. */
  lifecycle: Lifecycle;
  state: 'creating' | 'live' | 'releasing';
  holders: Holder[];
  /** Who moved the lease into its state: a stuck `creating` or `releasing` is taken over from a dead writer. */
  writer: { token: string; pid: number; host: string; at: string };
}

/** How a kind of shared resource is looked up and deleted (creation is the attacher's, see AttachRequest). */
export interface SharedResources {
  exists(kind: SharedKind, id: string): Promise<boolean>;
  /** Deletes it and resolves once it is gone; deleting a missing resource is not an error. */
  remove(kind: SharedKind, id: string): Promise<void>;
}

export interface AttachRequest {
  kind: SharedKind;
  id: string;
  deployment: string;
  role: string;
  lifecycle: Lifecycle;
  /** Creates the resource when it is missing (idempotent); without it a missing resource is an error. */
  create?: () => Promise<void>;
  /**
   * The resource lives where only flinkfn writes (content-addressed artifacts): one that exists without a
   * lease was created by flinkfn (by a deploy killed before its lease was written, or by an older version).
   */
  adopt?: boolean;
}

export type DetachOutcome = 'not attached' | 'detached' | 'deleted' | 'released' | 'kept (retain)';

export const LEASE_PREFIX = 'leases/';
/** A `creating` or `releasing` lease this old, written on another host, is taken over. */
export const STALE_MS = 30_000;
const DEADLINE_MS = 180_000;

export function leaseKey(kind: SharedKind, id: string): string {
  return `${LEASE_PREFIX}${kind}/${encodeURIComponent(id)}.json`;
}

export class MissingResourceError extends Error {
  constructor(readonly kind: SharedKind, readonly id: string) {
    super(`${kind} "${id}" does not exist`);
  }
}

interface Versioned {
  lease: Lease;
  etag: string;
}

/** The lease documents of one bucket. */
export class Leases {
  private readonly token = randomBytes(8).toString('hex');

  /**
   * @param trace told of the rare paths (a takeover, a fenced release, a resource adopted without a lease), for
   *   logs and for the concurrency tests' post-mortems
   */
  constructor(
    private readonly store: ObjectStore,
    private readonly resources: SharedResources,
    private readonly trace: (event: string) => void = () => {},
  ) {}

  async read(kind: SharedKind, id: string): Promise<Versioned | null> {
    const found = await this.store.getVersioned(leaseKey(kind, id));
    if (!found) return null;
    return { lease: parseLease(found.text, this.store.uri(leaseKey(kind, id))), etag: found.etag };
  }

  /** Every lease in the bucket (for `gc` and `status`). */
  async list(): Promise<Lease[]> {
    const leases: Lease[] = [];
    for (const key of await this.store.list(LEASE_PREFIX)) {
      const found = await this.store.getVersioned(key);
      if (found) leases.push(parseLease(found.text, this.store.uri(key)));
    }
    return leases;
  }

  /** Attaches `request.deployment`; returns whether this call created the resource. */
  async attach(request: AttachRequest): Promise<{ created: boolean }> {
    const { kind, id } = request;
    const holder: Holder = { deployment: request.deployment, role: request.role, since: now() };
    let created = false;
    for (const deadline = Date.now() + DEADLINE_MS; ; await backoff(deadline, `attaching ${kind} ${id}`)) {
      const current = await this.read(kind, id);
      if (!current) {
        if (await this.resources.exists(kind, id)) {
          const lease = this.newLease(request, { createdByFlinkfn: request.adopt === true, state: 'live', holders: [holder] });
          if (await this.write(lease, null)) {
            this.trace(`${request.deployment}: ${kind} ${id} exists without a lease; attached to it as ${request.adopt === true ? 'adopted' : 'not created by flinkfn'}`);
            return { created: false };
          }
          continue;
        }
        if (!request.create) throw new MissingResourceError(kind, id);
        const lease = this.newLease(request, { createdByFlinkfn: true, state: 'creating', holders: [holder] });
        const etag = await this.write(lease, null);
        if (!etag) continue;
        await request.create();
        created = true;
        if (await this.finishCreating({ lease, etag })) return { created };
        continue;
      }
      const { lease, etag } = current;
      if (lease.state === 'releasing') {
        if (this.isStale(lease)) await this.takeOverRelease(current);
        continue;
      }
      if (lease.state === 'creating') {
        const mine = lease.writer.token === this.token;
        if (!mine && !this.isStale(lease)) continue;
        // Its creator died (or it is this process, retrying): creating is idempotent.
        const taken = mine ? current : await this.claim(current, 'creating');
        if (!taken) continue;
        if (request.create) {
          await request.create();
          // Its own `creating` write, which the store took although the answer was lost: this call creates it.
          if (mine) created = true;
        } else if (!(await this.resources.exists(kind, id))) throw new MissingResourceError(kind, id);
        if (!(await this.finishCreating(taken))) continue;
        continue;
      }
      const already = lease.holders.find((h) => h.deployment === request.deployment && h.role === request.role);
      if (already && (request.lifecycle === lease.lifecycle || lease.lifecycle === 'retain')) return { created };
      const next: Lease = {
        ...lease,
        lifecycle: request.lifecycle === 'retain' ? 'retain' : lease.lifecycle,
        holders: already ? lease.holders : [...lease.holders, holder],
      };
      if (await this.write(next, etag)) return { created };
    }
  }

  /**
   * Detaches `deployment` (every role it holds, or only `role`). The detach that leaves no holder releases
   * the resource: deleted when flinkfn created it and it is ephemeral, otherwise only the lease goes.
   * `discardRetained`: the deployment created it and is rolling back its deploy, so even `retain` goes.
   */
  async detach(kind: SharedKind, id: string, deployment: string, options: { role?: string; discardRetained?: boolean } = {}): Promise<DetachOutcome> {
    const { role } = options;
    for (const deadline = Date.now() + DEADLINE_MS; ; await backoff(deadline, `detaching ${kind} ${id}`)) {
      const current = await this.read(kind, id);
      if (!current) return 'not attached';
      const { lease, etag } = current;
      const mine = (h: Holder): boolean => h.deployment === deployment && (role === undefined || h.role === role);
      if (!lease.holders.some(mine)) {
        if (lease.state === 'releasing' && this.isStale(lease)) {
          const outcome = await this.takeOverRelease(current);
          // Its own releasing write, which the store took although the answer was lost (the client retried and got
          // 412): finishing that release is this detach's outcome, not another's.
          if (outcome !== null && lease.writer.token === this.token) return outcome;
        }
        return 'not attached';
      }
      const holders = lease.holders.filter((h) => !mine(h));
      if (holders.length > 0) {
        if (await this.write({ ...lease, holders }, etag)) return 'detached';
        continue;
      }
      // A deploy rolled back deletes even a `retain` resource it created itself moments ago: it holds nothing.
      const discard = options.discardRetained === true && lease.createdByFlinkfn && lease.createdBy === deployment;
      const releasing: Lease = { ...lease, ...(discard ? { lifecycle: 'ephemeral' as const } : {}), holders: [], state: 'releasing', writer: this.writer() };
      const releasingEtag = await this.write(releasing, etag);
      if (!releasingEtag) continue;
      return this.release({ lease: releasing, etag: releasingEtag });
    }
  }

  /** Finishes a release this process wrote (or took over): delete the resource if it may, then the lease. */
  private async release(current: Versioned): Promise<DetachOutcome> {
    const { lease } = current;
    const deletes = lease.createdByFlinkfn && lease.lifecycle === 'ephemeral';
    // Fence: only the writer of the releasing state deletes (a takeover replaced the token).
    if (!(await this.stillMine(lease))) {
      this.trace(`release of ${lease.kind} ${lease.id} fenced before deleting: another writer took it over`);
      return 'detached';
    }
    if (deletes) await this.resources.remove(lease.kind, lease.id);
    if (!(await this.stillMine(lease))) {
      this.trace(`release of ${lease.kind} ${lease.id} fenced after deleting${deletes ? ' the resource' : ''}: another writer took it over`);
      return 'detached';
    }
    await this.store.delete(leaseKey(lease.kind, lease.id));
    return deletes ? 'deleted' : lease.createdByFlinkfn ? 'kept (retain)' : 'released';
  }

  /**
   * Finishes a lease a dead writer left half way (for gc): a release is completed; a creation is marked live
   * when the resource exists, and otherwise left to its holders, whose teardown detaches them.
   */
  async repair(kind: SharedKind, id: string): Promise<string> {
    const current = await this.read(kind, id);
    if (!current || current.lease.state === 'live' || !this.isStale(current.lease)) return 'nothing to do';
    if (current.lease.state === 'releasing') {
      await this.takeOverRelease(current);
      return 'released';
    }
    if (!(await this.resources.exists(kind, id))) {
      if (current.lease.holders.length > 0) return 'left to its holders';
      const taken = await this.claim(current, 'releasing');
      if (taken) await this.release(taken);
      return 'released';
    }
    const taken = await this.claim(current, 'creating');
    return taken && (await this.finishCreating(taken)) ? 'marked live' : 'nothing to do';
  }

  /** Finishes a release its writer cannot (or this process's own, see detach); null when another taker won. */
  private async takeOverRelease(current: Versioned): Promise<DetachOutcome | null> {
    const taken = await this.claim(current, 'releasing');
    if (!taken) return null;
    const { writer } = current.lease;
    const outcome = await this.release(taken);
    this.trace(`took over the release of ${current.lease.kind} ${current.lease.id} from ${writer.token === this.token ? 'this process' : `pid ${writer.pid} on ${writer.host}`} (written ${writer.at}): ${outcome}`);
    return outcome;
  }

  /** Makes this process the writer of a stuck lease (compare-and-swap: one taker wins). */
  private async claim(current: Versioned, state: Lease['state']): Promise<Versioned | null> {
    const lease: Lease = { ...current.lease, state, writer: this.writer() };
    const etag = await this.write(lease, current.etag);
    return etag ? { lease, etag } : null;
  }

  private async finishCreating(current: Versioned): Promise<boolean> {
    for (let state: Versioned | null = current; state; ) {
      if (state.lease.state !== 'creating' || state.lease.writer.token !== this.token) return state.lease.state === 'live';
      if (await this.write({ ...state.lease, state: 'live' }, state.etag)) return true;
      state = await this.read(current.lease.kind, current.lease.id);
    }
    return false;
  }

  private async stillMine(lease: Lease): Promise<boolean> {
    const now = await this.read(lease.kind, lease.id);
    return now !== null && now.lease.writer.token === this.token && now.lease.state === 'releasing';
  }

  /**
   * A writer that left its lease in a transitional state and can no longer finish it. On this host that is
   * known for sure: its process is gone. A live local writer is never overtaken, however slow (a topic
   * deletion under load can take longer than `STALE_MS`): a takeover would race its delete. A writer on
   * another host is presumed dead after `STALE_MS`.
   */
  isStale(lease: Lease): boolean {
    if (lease.writer.token === this.token) return true;
    if (lease.writer.host === hostname()) return !processRuns(lease.writer.pid);
    return Date.now() - Date.parse(lease.writer.at) > STALE_MS;
  }

  private newLease(request: AttachRequest, fields: Pick<Lease, 'createdByFlinkfn' | 'state' | 'holders'>): Lease {
    return {
      format: 'flinkfn-lease',
      formatVersion: 1,
      kind: request.kind,
      id: request.id,
      createdBy: fields.createdByFlinkfn ? request.deployment : null,
      lifecycle: request.lifecycle,
      ...fields,
      writer: this.writer(),
    };
  }

  private writer(): Lease['writer'] {
    return { token: this.token, pid: process.pid, host: hostname(), at: now() };
  }

  private async write(lease: Lease, etag: string | null): Promise<string | null> {
    return this.store.putIfUnchanged(leaseKey(lease.kind, lease.id), JSON.stringify(lease, null, 2) + '\n', etag);
  }
}

function parseLease(text: string, where: string): Lease {
  const value = JSON.parse(text) as Partial<Lease>;
  if (value.format !== 'flinkfn-lease' || value.formatVersion !== 1 || !Array.isArray(value.holders)) {
    throw new DeployError(`${where} is not a flinkfn lease`, { hint: 'It was changed by hand or by another program; restore it or remove it once no deployment uses the resource.' });
  }
  return value as Lease;
}

async function backoff(deadline: number, what: string): Promise<void> {
  if (Date.now() > deadline) {
    throw new DeployError(`gave up ${what}: another process kept changing it for ${DEADLINE_MS / 1000} s`, {
      hint: 'Another flinkfn command may be stuck while holding it; run the command again, or flinkfn gc.',
    });
  }
  await sleep(50 + Math.random() * 150);
}

const now = (): string => new Date().toISOString();
