/**
 * What the deployments table shows: every deployment of the target with its job's state, version, uptime,
 * input and output rates, watermark and its lag behind wall time, consumer lag, last checkpoint, restarts,
 * TTL and resources; and what a result panel shows beside the results, the handler's own metrics. Polled from `list` and `status` (@flinkfn/deploy) only while someone watches, and
 * pushed to every watcher.
 */
import { list, status, type DeploymentStatus, type HandlerMetric, type ResolvedTarget } from '@flinkfn/deploy';
import { describe } from './errors.js';

export interface DeploymentRow {
  name: string;
  functionName: string;
  /** The job's state, or what the record says when there is no job (an operation, an ending). */
  state: string;
  version: number | null;
  uptimeMs: number | null;
  /** Records per second since the previous poll (null on the first one). */
  inRate: number | null;
  outRate: number | null;
  recordsIn: number | null;
  recordsOut: number | null;
  watermark: number | null;
  /** Wall time minus watermark, at the poll. */
  watermarkLagMs: number | null;
  /** Records in the source not yet committed by the job, summed over its partitions. */
  consumerLag: number | null;
  lastCheckpoint: { id: number; at: number; durationMs: number } | null;
  restarts: number | null;
  expiresAt: string | null;
  idleTimeoutMs: number | null;
  /** Resources this deployment created and owns (`kind id`, and `(also a b)` for the others attached to a shared one). */
  owns: string[];
  /** Shared resources it is attached to, with their owner and the other deployments attached. */
  attachedTo: Array<{ resource: string; role: string | null; owner: string; others: string[] }>;
  /** What the handler records through `ctx.metrics`, over the job's subtasks (as `flinkfn status` shows them). */
  handlerMetrics: HandlerMetric[];
  jobUrl: string | null;
  /** Why its status could not be read (the row still shows what the record says). */
  error: string | null;
}

export interface Snapshot {
  at: number;
  deployments: DeploymentRow[];
}

type Counts = { at: number; recordsIn: number; recordsOut: number };

export class DeploymentWatch {
  private readonly listeners = new Set<(snapshot: Snapshot) => void>();
  private readonly previous = new Map<string, Counts>();
  private timer: NodeJS.Timeout | undefined;
  private latest: Snapshot | undefined;
  private polling: Promise<Snapshot> | undefined;

  constructor(private readonly target: ResolvedTarget, private readonly intervalMs = 2_000) {}

  /** Adds a watcher; it gets the latest snapshot at once (if any) and every new one. Returns its removal. */
  watch(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    if (this.latest) listener(this.latest);
    if (!this.timer) this.schedule(0);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** One poll now (shared with a poll already running). */
  poll(): Promise<Snapshot> {
    this.polling ??= this.read().finally(() => (this.polling = undefined));
    return this.polling;
  }

  stop(): void {
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      void this.poll()
        .then((snapshot) => {
          for (const l of this.listeners) l(snapshot);
        })
        .catch(() => undefined)
        .finally(() => {
          if (this.listeners.size > 0) this.schedule(this.intervalMs);
        });
    }, delay);
  }

  private async read(): Promise<Snapshot> {
    const summaries = await list(this.target, { all: true });
    const deployments = await Promise.all(
      summaries.map(async (summary): Promise<DeploymentRow> => {
        try {
          return this.row(await status(this.target, summary.name));
        } catch (error) {
          return { ...this.row({ ...summary, artifactId: null, uptimeMs: null, recordsIn: null, recordsOut: null, watermark: null, partitions: [], lag: [], restarts: null, lastCheckpoint: null, handlerMetrics: [], versions: [], resources: [], record: '', jobUrl: null }), error: describe(error) };
        }
      }),
    );
    this.latest = { at: Date.now(), deployments };
    return this.latest;
  }

  private row(s: DeploymentStatus): DeploymentRow {
    const now = Date.now();
    const before = this.previous.get(s.name);
    const rate = (value: number | null, old: number | undefined): number | null =>
      value === null || old === undefined || !before || now <= before.at ? null : Math.max(0, ((value - old) * 1000) / (now - before.at));
    const inRate = rate(s.recordsIn, before?.recordsIn);
    const outRate = rate(s.recordsOut, before?.recordsOut);
    if (s.recordsIn !== null && s.recordsOut !== null) this.previous.set(s.name, { at: now, recordsIn: s.recordsIn, recordsOut: s.recordsOut });
    const live = s.resources.filter((r) => r.state !== 'deleted');
    return {
      name: s.name,
      functionName: s.functionName,
      state: s.jobState ?? (s.operation ? `${s.operation.kind.toUpperCase()}ING` : s.ended ? `ENDED (${s.ended.reason})` : 'NO JOB'),
      version: s.version,
      uptimeMs: s.uptimeMs,
      inRate,
      outRate,
      recordsIn: s.recordsIn,
      recordsOut: s.recordsOut,
      watermark: s.watermark,
      watermarkLagMs: s.watermark === null ? null : now - s.watermark,
      consumerLag: s.lag.length === 0 ? null : s.lag.reduce((sum, p) => sum + p.lag, 0),
      lastCheckpoint: s.lastCheckpoint ? { id: s.lastCheckpoint.id, at: s.lastCheckpoint.at, durationMs: s.lastCheckpoint.durationMs } : null,
      restarts: s.restarts,
      expiresAt: s.lifetime?.expiresAt ?? null,
      idleTimeoutMs: s.lifetime?.idleTimeoutMs ?? null,
      owns: live.filter((r) => r.owner === 'this deployment').map((r) => `${r.kind} ${r.id}${r.attached.length > 0 ? ` (also ${r.attached.join(' ')})` : ''}`),
      attachedTo: live.filter((r) => r.owner !== 'this deployment').map((r) => ({ resource: `${r.kind} ${r.id}`, role: r.role ?? null, owner: r.owner, others: r.attached })),
      handlerMetrics: s.handlerMetrics,
      jobUrl: s.jobUrl,
      error: null,
    };
  }
}
