/**
 * One pass of the controller over a target's deployments: what no command asked for but the deployment
 * records say must happen.
 *
 * - **Destructor.** A current job that reached FINISHED, CANCELED or FAILED without a flinkfn command (a
 *   bounded input ended, a cancel from Flink's UI or REST, restarts exhausted) ends its deployment: the record
 *   gets `ended` (when and why) in the same write that takes the `destroy` operation, and then the same
 *   idempotent teardown as `flinkfn destroy` runs. Like Flink's job result store marking a result dirty
 *   until its cleanup is done, a crash in between leaves `ended` set and the next pass finishes it.
 * - **Lost is not ended.** A job Flink does not know (its JobManager restarted without HA) is resumed from
 *   the version's newest retained checkpoint, as the Flink Kubernetes Operator's last-state upgrade mode does.
 * - **Lifetimes.** A passed TTL, or no new record on the source topic for the idle timeout, ends it too.
 * - **Abandoned operations.** A deploy, rollback, resume or destroy whose process died is finished or undone.
 *
 * Every change takes the record's operation by compare-and-swap, so a pass never interferes with a command
 * that is working on the same deployment, and several controllers (or gc runs) can overlap safely.
 */
import { TERMINAL_JOB_STATES, type JobStatus } from '../clients/flink.js';
import { jobObjectId, parseStatus, STATUS_JSONPATH } from '../kubernetes/apply.js';
import { describe } from '../errors.js';
import { Deployment, RecordConflictError, type Ending } from '../registry.js';
import type { Session } from '../session.js';
import { releaseDeployment, type TeardownItem } from '../lifecycle/teardown.js';
import { latestCheckpoint, restartVersion, undoUnfinished } from '../lifecycle/versions.js';

export interface ControllerEvent {
  at: string;
  deployment: string;
  action: 'release' | 'resume' | 'recover' | 'error';
  reason: string;
  detail: string;
  /** For a release: from the moment the ending was noticed to the last resource gone. */
  ms?: number;
  items?: TeardownItem[];
}

export interface ReconcileOptions {
  /** An operation older than this, of a process on another host, counts as abandoned. */
  abandonedAfterMs?: number;
  /** Plan only (gc --dry-run): say what would happen. */
  dryRun?: boolean;
  onEvent?: (event: ControllerEvent) => void;
}

/** What the controller remembers between passes: the source topic's offsets, for idle timeouts. */
export class ControllerMemory {
  readonly input = new Map<string, { offsets: string; since: number }>();
}

const ENDINGS: Partial<Record<JobStatus, Ending['reason']>> = { FINISHED: 'finished', CANCELED: 'cancelled', FAILED: 'failed', SUSPENDED: 'lost' };

export async function reconcile(session: Session, memory: ControllerMemory, options: ReconcileOptions = {}): Promise<ControllerEvent[]> {
  const events: ControllerEvent[] = [];
  const emit = (event: Omit<ControllerEvent, 'at'>): void => {
    const full = { at: new Date().toISOString(), ...event };
    events.push(full);
    options.onEvent?.(full);
  };
  for (const deployment of await Deployment.list(session.store)) {
    try {
      await reconcileOne(session, deployment, memory, options, emit);
    } catch (error) {
      // Another process changed the record: it is working on it; look again next pass.
      if (!(error instanceof RecordConflictError)) emit({ deployment: deployment.name, action: 'error', reason: 'error', detail: describe(error) });
    }
  }
  return events;
}

type Emit = (event: Omit<ControllerEvent, 'at'>) => void;

async function reconcileOne(session: Session, deployment: Deployment, memory: ControllerMemory, options: ReconcileOptions, emit: Emit): Promise<void> {
  const name = deployment.name;
  const operation = deployment.record.operation;
  if (operation) {
    if (!deployment.operationAbandoned(options.abandonedAfterMs ?? 10 * 60_000)) return;
    if (operation.kind !== 'destroy') {
      if (options.dryRun) return emit({ deployment: name, action: 'recover', reason: 'abandoned', detail: `would undo the ${operation.kind} started ${operation.startedAt} by pid ${operation.pid} on ${operation.host}` });
      await deployment.begin(operation.kind, operation.version, 'controller');
      await undoUnfinished(session, deployment);
      emit({ deployment: name, action: 'recover', reason: 'abandoned', detail: `undid the ${operation.kind} its process left unfinished` });
      if (!deployment.current && deployment.record.versions.every((v) => v.state === 'failed')) {
        // A first deploy killed half way: nothing of it ever ran.
        return release(session, deployment, { reason: 'gc', detail: `a deploy killed before its first version ran` }, options, emit);
      }
      return;
    }
    // An unfinished destroy (a command's, or an earlier pass's): finish it.
    return release(session, deployment, deployment.record.ended ?? { reason: 'gc', detail: `a destroy started ${operation.startedAt} did not finish` }, options, emit);
  }
  if (deployment.record.ended) {
    // Teardown done except `retain` resources: nothing left to do.
    if (deployment.live().every((r) => r.lifecycle === 'retain' && r.kind !== 'flink-job')) return;
    return release(session, deployment, deployment.record.ended, options, emit);
  }
  const current = deployment.current;
  if (!current || (current.state !== 'running' && current.state !== 'starting')) return;

  if (session.target.kind === 'kubernetes') return reconcileOnKubernetes(session, deployment, memory, options, emit);
  const status = await session.flink.jobStatus(current.jobId);
  if (status === null || status === 'SUSPENDED') {
    if (options.dryRun) return emit({ deployment: name, action: 'resume', reason: 'lost', detail: `would resume job ${current.jobId}, which Flink no longer knows` });
    return resume(session, deployment, emit);
  }
  const ending = status ? ENDINGS[status] : undefined;
  if (ending && TERMINAL_JOB_STATES.has(status)) {
    return release(session, deployment, { reason: ending, detail: `job ${current.jobId} is ${status}` }, options, emit);
  }
  const outlived = await lifetimeEnding(session, deployment, memory);
  if (outlived) return release(session, deployment, outlived, options, emit);
}

/** A passed TTL or idle timeout, as the ending it makes; null while the deployment may live on. */
async function lifetimeEnding(session: Session, deployment: Deployment, memory: ControllerMemory): Promise<Omit<Ending, 'at'> | null> {
  const lifetime = deployment.record.lifetime;
  if (lifetime?.expiresAt && Date.parse(lifetime.expiresAt) <= Date.now()) {
    return { reason: 'ttl', detail: `its time to live (${lifetime.ttlMs} ms) passed at ${lifetime.expiresAt}` };
  }
  if (lifetime?.idleTimeoutMs) {
    const idleFor = await idleTime(session, deployment, memory);
    if (idleFor !== null && idleFor >= lifetime.idleTimeoutMs) {
      return { reason: 'idle', detail: `no new record on its source for ${Math.round(idleFor / 1000)} s (idle timeout ${lifetime.idleTimeoutMs} ms)` };
    }
  }
  return null;
}

/**
 * A Kubernetes deployment's job is the operator's: it restarts and recovers it (a lost job is not flinkfn's to
 * resume). What ends it is the operator's report — FINISHED, FAILED, CANCELED — or its object deleted outside
 * flinkfn; TTL and idle timeouts are as on every target.
 */
async function reconcileOnKubernetes(session: Session, deployment: Deployment, memory: ControllerMemory, options: ReconcileOptions, emit: Emit): Promise<void> {
  const id = jobObjectId(session, deployment.name);
  const line = await session.kubectl().field(id, STATUS_JSONPATH);
  if (line === null) return release(session, deployment, { reason: 'cancelled', detail: `${id} was deleted outside flinkfn` }, options, emit);
  const state = parseStatus(line).jobState as JobStatus | null;
  const ending = state ? ENDINGS[state] : undefined;
  if (state && ending && state !== 'SUSPENDED' && TERMINAL_JOB_STATES.has(state)) {
    return release(session, deployment, { reason: ending, detail: `the operator reports job ${state} (${id})` }, options, emit);
  }
  const outlived = await lifetimeEnding(session, deployment, memory);
  if (outlived) return release(session, deployment, outlived, options, emit);
}

/** Marks the deployment ended (in the write that takes the operation), then releases everything it holds. */
async function release(session: Session, deployment: Deployment, ending: Omit<Ending, 'at'> & { at?: string }, options: ReconcileOptions, emit: Emit): Promise<void> {
  const name = deployment.name;
  if (options.dryRun) return emit({ deployment: name, action: 'release', reason: ending.reason, detail: `would release: ${ending.detail}` });
  const started = performance.now();
  deployment.record.ended = { at: ending.at ?? new Date().toISOString(), reason: ending.reason, detail: ending.detail };
  await deployment.begin('destroy', null, 'controller');
  const items = await releaseDeployment(session, deployment, { failpointPrefix: 'controller', keepRecordWithRetained: true });
  emit({ deployment: name, action: 'release', reason: ending.reason, detail: ending.detail, ms: Math.round(performance.now() - started), items });
}

/** Starts the lost job's version again from its newest retained checkpoint (or what it started from). */
async function resume(session: Session, deployment: Deployment, emit: Emit): Promise<void> {
  const current = deployment.current!;
  await deployment.begin('resume', current.version, 'controller');
  const from = (await latestCheckpoint(session, deployment, current)) ?? current.restoredFrom;
  const lost = current.jobId;
  current.lostJobs = [...(current.lostJobs ?? []), lost];
  const gone = deployment.resource('flink-job', lost);
  if (gone) await deployment.mark(gone, 'deleted');
  try {
    await restartVersion(session, deployment, current, from);
  } finally {
    // A job that was submitted but is still waiting for slots is left to start; the next pass looks again.
    await deployment.finish();
  }
  emit({ deployment: deployment.name, action: 'resume', reason: 'lost', detail: `job ${lost} was lost; version ${current.version} resumed as job ${current.jobId}${from ? ` from ${from}` : ' without state (no checkpoint was retained)'}` });
}

/** How long the source topic has had no new record (its end offsets unchanged), as far as this controller saw. */
async function idleTime(session: Session, deployment: Deployment, memory: ControllerMemory): Promise<number | null> {
  const source = deployment.record.resources.find((r) => r.kind === 'kafka-topic' && r.role === 'source' && r.state !== 'deleted');
  if (!source) return null;
  const offsets = JSON.stringify(await (await session.kafka()).endOffsets(source.id));
  const seen = memory.input.get(deployment.name);
  if (!seen || seen.offsets !== offsets) {
    memory.input.set(deployment.name, { offsets, since: Date.now() });
    return 0;
  }
  return Date.now() - seen.since;
}
