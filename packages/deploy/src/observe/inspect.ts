/**
 * `flinkfn ls`, `status`, `logs`: what the registry records, joined with what Flink reports now.
 */
import type { JobStatus } from '../clients/flink.js';
import { operatorJobState } from '../kubernetes/apply.js';
import type { ResolvedTarget } from '../config.js';
import { DeployError } from '../errors.js';
import { Deployment, type DeploymentRecord, type TrackedResource } from '../registry.js';
import { openSession, type Session } from '../session.js';
import { summarize } from '../lifecycle/jobs.js';
import { handlerMetrics, type HandlerMetric } from './handler-metrics.js';
import { TaskManagerLogReader, parseTaskManagerLine, type HandlerLogEntry } from './handler-logs.js';

export interface DeploymentSummary {
  name: string;
  functionName: string;
  version: number | null;
  jobId: string | null;
  jobState: JobStatus | 'UNKNOWN' | null;
  operation: DeploymentRecord['operation'];
  /** Set once it ended without a command (job finished/cancelled/failed, TTL, idle). */
  ended: DeploymentRecord['ended'];
  lifetime: DeploymentRecord['lifetime'];
  updatedAt: string;
}

/** Deployments of the target; `all` includes ended ones that only hold `retain` resources any more. */
export async function list(target: ResolvedTarget, options: { all?: boolean } = {}): Promise<DeploymentSummary[]> {
  const session = await openSession(target, { startLocal: false });
  try {
    const summaries: DeploymentSummary[] = [];
    for (const deployment of await Deployment.list(session.store)) {
      const current = deployment.current;
      if (!options.all && deployment.record.ended && !deployment.record.operation) continue;
      summaries.push({
        name: deployment.name,
        functionName: deployment.record.functionName,
        version: current?.version ?? null,
        jobId: current?.jobId ?? null,
        jobState: current ? ((await jobState(session, deployment.name, current.jobId)) ?? 'UNKNOWN') : null,
        operation: deployment.record.operation,
        ended: deployment.record.ended,
        lifetime: deployment.record.lifetime,
        updatedAt: deployment.record.updatedAt,
      });
    }
    return summaries;
  } finally {
    await session.close();
  }
}

export interface DeploymentStatus extends DeploymentSummary {
  artifactId: string | null;
  uptimeMs: number | null;
  recordsIn: number | null;
  recordsOut: number | null;
  /** Lowest input watermark over the job's tasks (ms since epoch), null before the first one. */
  watermark: number | null;
  /** Per source partition: its event-time watermark (null before its first event) and whether it is idle. */
  partitions: Array<{ partition: number; watermark: number | null; idle: boolean }>;
  /** Per source partition, records not yet committed by the job's checkpoints. */
  lag: Array<{ topic: string; partition: number; end: number; committed: number | null; lag: number }>;
  restarts: number | null;
  lastCheckpoint: { id: number; at: number; durationMs: number; bytes: number } | null;
  /** What the handler records through `ctx.metrics`, over the job's subtasks (empty before Flink's metric store has them). */
  handlerMetrics: HandlerMetric[];
  versions: DeploymentRecord['versions'];
  resources: ResourceStatus[];
  record: string;
  jobUrl: string | null;
}

/** A resource with who owns it and who else is attached (shared ones, from their lease). */
export interface ResourceStatus extends TrackedResource {
  /** `this deployment`, another deployment's name, or `outside flinkfn` (never deleted by flinkfn). */
  owner: string;
  /** Other deployments attached to a shared resource. */
  attached: string[];
}

async function resourceStatus(session: Session, deployment: Deployment): Promise<ResourceStatus[]> {
  const rows: ResourceStatus[] = [];
  for (const r of deployment.record.resources) {
    if (!r.shared || r.state === 'deleted' || (r.kind !== 'kafka-topic' && r.kind !== 's3-object')) {
      rows.push({ ...r, owner: 'this deployment', attached: [] });
      continue;
    }
    const found = await session.leases.read(r.kind, r.id);
    const lease = found?.lease;
    const owner = !lease ? 'unknown (no lease)' : !lease.createdByFlinkfn ? 'outside flinkfn' : lease.createdBy === deployment.name ? 'this deployment' : (lease.createdBy ?? 'flinkfn');
    rows.push({ ...r, owner, attached: [...new Set((lease?.holders ?? []).map((h) => h.deployment).filter((d) => d !== deployment.name))] });
  }
  return rows;
}

/** A Kubernetes target without a REST URL: the operator's objects are all there is to ask. */
function withoutRest(session: Session): boolean {
  return session.target.kind === 'kubernetes' && session.target.flinkUrl === '';
}

async function jobState(session: Session, name: string, jobId: string): Promise<JobStatus | 'UNKNOWN' | null> {
  return withoutRest(session) ? operatorJobState(session, name) : session.flink.jobStatus(jobId);
}

async function load(session: Session, name: string): Promise<Deployment> {
  const deployment = await Deployment.load(session.store, name);
  if (!deployment) throw new DeployError(`no deployment named "${name}"`, { hint: 'flinkfn ls lists the deployments of this target.' });
  return deployment;
}

export async function status(target: ResolvedTarget, name: string): Promise<DeploymentStatus> {
  const session = await openSession(target, { startLocal: false });
  try {
    const deployment = await load(session, name);
    const current = deployment.current;
    const base: DeploymentStatus = {
      name,
      functionName: deployment.record.functionName,
      version: current?.version ?? null,
      jobId: current?.jobId ?? null,
      jobState: null,
      operation: deployment.record.operation,
      ended: deployment.record.ended,
      lifetime: deployment.record.lifetime,
      updatedAt: deployment.record.updatedAt,
      artifactId: current?.artifactId ?? null,
      uptimeMs: null,
      recordsIn: null,
      recordsOut: null,
      watermark: null,
      partitions: [],
      lag: [],
      restarts: null,
      lastCheckpoint: null,
      handlerMetrics: [],
      versions: deployment.record.versions,
      resources: await resourceStatus(session, deployment),
      record: deployment.location,
      jobUrl: current ? `${session.target.flinkUrl}/#/job/running/${current.jobId}/overview` : null,
    };
    if (!current) return base;
    if (withoutRest(session)) {
      // Only what the operator reports; metrics need Flink's REST API (a session target's flink.restUrl).
      base.jobState = (await operatorJobState(session, name)) ?? 'UNKNOWN';
      base.jobUrl = null;
      return base;
    }
    const state = await session.flink.jobStatus(current.jobId);
    base.jobState = state ?? 'UNKNOWN';
    if (state === null) return base;
    const job = await session.flink.job(current.jobId);
    base.uptimeMs = job.duration;
    Object.assign(base, await recordCounts(session, current.jobId, job.vertices.map((v) => v.id), deployment));
    base.partitions = await partitionWatermarks(session, current.jobId, job.vertices.map((v) => v.id));
    base.lag = await consumerLag(session, deployment);
    const metrics = await session.flink.jobMetrics(current.jobId, ['numRestarts']);
    base.restarts = metrics.numRestarts !== undefined ? Number(metrics.numRestarts) : null;
    base.handlerMetrics = await handlerMetrics(session.flink, current.jobId, deployment.record.functionName, job.vertices);
    base.watermark = await lowestWatermark(session, current.jobId, job.vertices.map((v) => v.id));
    const checkpoints = await session.flink.checkpoints(current.jobId);
    const latest = checkpoints.latest.completed;
    base.lastCheckpoint = latest ? { id: latest.id, at: latest.latest_ack_timestamp, durationMs: latest.end_to_end_duration, bytes: latest.state_size } : null;
    return base;
  } finally {
    await session.close();
  }
}

/**
 * Records in (what the Kafka source operators read) and out (what the sink writers sent to result topics),
 * from operator metrics: a chained job has no network edge, so the vertex-level read/write counters stay 0.
 */
async function recordCounts(session: Session, jobId: string, vertexIds: string[], deployment: Deployment): Promise<{ recordsIn: number; recordsOut: number }> {
  const sinkTopics = new Set(deployment.record.resources.filter((r) => r.kind === 'kafka-topic' && r.role?.startsWith('sink:')).map((r) => r.id));
  let recordsIn = 0;
  let recordsOut = 0;
  for (const vertexId of vertexIds) {
    const ids = Object.keys(await session.flink.vertexMetrics(jobId, vertexId));
    // The source operator's numRecordsIn counts records read from Kafka (its numRecordsOut also counts the
    // partition markers the readers emit for the watermark operator).
    const sources = ids.filter((id) => /^Source__kafka__.+\.numRecordsIn$/.test(id));
    const writers = ids.filter((id) => /^kafka__(.+)__Writer\.numRecordsSend$/.test(id) && sinkTopics.has(/^kafka__(.+)__Writer/.exec(id)![1]!));
    if (sources.length + writers.length === 0) continue;
    const values = await session.flink.vertexMetrics(jobId, vertexId, [...sources, ...writers]);
    for (const id of sources) recordsIn += values[id] ?? 0;
    for (const id of writers) recordsOut += values[id] ?? 0;
  }
  return { recordsIn, recordsOut };
}

/**
 * The watermark operator's gauges (`<operator>.partition.<n>.watermark` and `.idle`, registered by the subtask
 * that reads the partition): the largest value over subtasks is the owner's.
 */
async function partitionWatermarks(session: Session, jobId: string, vertexIds: string[]): Promise<DeploymentStatus['partitions']> {
  const rows = new Map<number, { partition: number; watermark: number | null; idle: boolean }>();
  for (const vertexId of vertexIds) {
    const ids = Object.keys(await session.flink.vertexMetrics(jobId, vertexId)).filter((id) => /\.partition\.\d+\.(watermark|idle)$/.test(id));
    if (ids.length === 0) continue;
    const values = await session.flink.vertexMetrics(jobId, vertexId, ids, 'max');
    for (const id of ids) {
      const [, n, what] = /\.partition\.(\d+)\.(watermark|idle)$/.exec(id)!;
      const row = rows.get(Number(n)) ?? { partition: Number(n), watermark: null, idle: false };
      const value = values[id] ?? Number.NaN;
      // Long.MIN_VALUE: no event yet.
      if (what === 'watermark') row.watermark = Number.isFinite(value) && value > -9e18 ? value : null;
      else row.idle = value === 1;
      rows.set(row.partition, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.partition - b.partition);
}

/** Per source partition: the end offset minus the offset the job committed with its last checkpoint. */
async function consumerLag(session: Session, deployment: Deployment): Promise<Array<{ topic: string; partition: number; end: number; committed: number | null; lag: number }>> {
  const source = deployment.record.resources.find((r) => r.kind === 'kafka-topic' && r.role === 'source' && r.state !== 'deleted');
  if (!source) return [];
  const admin = await session.kafka();
  const ends = await admin.endOffsets(source.id);
  const committed = await admin.committedOffsets(`flinkfn-${deployment.name}`, source.id);
  return Object.entries(ends).map(([p, end]) => {
    const at = committed[Number(p)] ?? null;
    return { topic: source.id, partition: Number(p), end: Number(end), committed: at, lag: Number(end) - (at ?? 0) };
  });
}

async function lowestWatermark(session: Session, jobId: string, vertexIds: string[]): Promise<number | null> {
  let lowest: number | null = null;
  for (const id of vertexIds.slice(1)) {
    const rows = await fetch(`${session.target.flinkUrl}/jobs/${jobId}/vertices/${id}/watermarks`).then((r) => (r.ok ? (r.json() as Promise<Array<{ id: string; value: string }>>) : []));
    for (const row of rows) {
      const value = Number(row.value);
      // Long.MIN_VALUE means "no watermark yet".
      if (Number.isFinite(value) && value > -9e18) lowest = lowest === null ? value : Math.min(lowest, value);
    }
  }
  return lowest;
}

export interface DeploymentLogs {
  name: string;
  jobId: string | null;
  exceptions: Array<{ at: number; task: string | null; summary: string; stacktrace: string }>;
  /** What the handler printed with console.* (every job of the deployment), the last `lines`. */
  handlerLogs: HandlerLogEntry[];
  /** Other TaskManager log lines about flinkfn or the deployment's jobs, the last `lines`. */
  taskManagerLines: string[];
}

export async function logs(target: ResolvedTarget, name: string, lines = 50): Promise<DeploymentLogs> {
  const session = await openSession(target, { startLocal: false });
  try {
    const deployment = await load(session, name);
    const jobIds = deployment.record.versions.map((v) => v.jobId);
    const current = deployment.current;
    const exceptions: DeploymentLogs['exceptions'] = [];
    for (const jobId of current ? [current.jobId] : jobIds.slice(-1)) {
      if ((await session.flink.jobStatus(jobId)) === null) continue;
      for (const e of await session.flink.exceptions(jobId, 10)) {
        exceptions.push({ at: e.timestamp, task: e.taskName, summary: summarize(e), stacktrace: e.stacktrace });
      }
    }
    const handlerLogs: HandlerLogEntry[] = [];
    const taskManagerLines: string[] = [];
    const ids = new Set(jobIds);
    const pattern = new RegExp(['flinkfn', ...jobIds].join('|'));
    for (const { taskManager, line } of (await new TaskManagerLogReader(session.flink).read()).lines) {
      const entry = parseTaskManagerLine(line, taskManager);
      if (entry) {
        if (ids.has(entry.jobId)) handlerLogs.push(entry);
      } else if (pattern.test(line)) {
        taskManagerLines.push(line);
      }
    }
    // slice(-0) would be everything: --lines 0 shows none.
    const last = <T>(all: T[]): T[] => (lines > 0 ? all.slice(-lines) : []);
    return { name, jobId: current?.jobId ?? null, exceptions, handlerLogs: last(handlerLogs), taskManagerLines: last(taskManagerLines) };
  } finally {
    await session.close();
  }
}
