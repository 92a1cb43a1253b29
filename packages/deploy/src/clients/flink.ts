/**
 * The Flink REST API calls flinkfn needs (Flink 2.2, session cluster). Errors carry the HTTP status and
 * Flink's own `errors` text; an unreachable cluster is reported as such, with the URL.
 */
import { openAsBlob } from 'node:fs';
import path from 'node:path';

export type JobStatus =
  | 'INITIALIZING' | 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED'
  | 'FINISHED' | 'RESTARTING' | 'SUSPENDED' | 'RECONCILING';

/** Every JobStatus, for reading one from text (the operator's status). */
export const JOB_STATUSES: readonly JobStatus[] = ['INITIALIZING', 'CREATED', 'RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'FINISHED', 'RESTARTING', 'SUSPENDED', 'RECONCILING'];

export const TERMINAL_JOB_STATES: ReadonlySet<JobStatus> = new Set(['FAILED', 'CANCELED', 'FINISHED', 'SUSPENDED']);

export interface JarRunRequest {
  entryClass: string;
  programArgsList: string[];
  jobId: string;
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  claimMode?: 'CLAIM' | 'NO_CLAIM';
  flinkConfiguration?: Record<string, string>;
}

export interface UploadedJar {
  id: string;
  name: string;
  uploaded: number;
}

export interface JobOverview {
  jid: string;
  name: string;
  state: JobStatus;
  'start-time': number;
  'end-time': number;
  duration: number;
}

export interface JobException {
  exceptionName: string;
  stacktrace: string;
  timestamp: number;
  taskName: string | null;
  endpoint: string | null;
}

/** Thrown for a non-2xx answer; `status` 0 means the cluster did not answer at all. */
export class FlinkRestError extends Error {
  override readonly name = 'FlinkRestError';
  constructor(message: string, readonly status: number, readonly url: string, readonly errors: string[] = []) {
    super(message);
  }
}

export class FlinkClient {
  constructor(readonly restUrl: string, private readonly timeoutMs = 30_000) {}

  overview(): Promise<{ taskmanagers: number; 'slots-total': number; 'slots-available': number; 'flink-version': string; 'jobs-running': number }> {
    return this.call('GET', '/overview');
  }

  async listJars(): Promise<UploadedJar[]> {
    const body = await this.call<{ files: UploadedJar[] }>('GET', '/jars');
    return body.files;
  }

  /** Uploads a jar; its id is the basename Flink gives the stored file. */
  async uploadJar(file: string, name = path.basename(file)): Promise<string> {
    const form = new FormData();
    form.append('jarfile', await openAsBlob(file, { type: 'application/x-java-archive' }), name);
    const body = await this.call<{ filename: string }>('POST', '/jars/upload', form, 300_000);
    return path.basename(body.filename);
  }

  deleteJar(jarId: string): Promise<unknown> {
    return this.call('DELETE', `/jars/${encodeURIComponent(jarId)}`);
  }

  async runJar(jarId: string, request: JarRunRequest): Promise<string> {
    const body = await this.call<{ jobid: string }>('POST', `/jars/${encodeURIComponent(jarId)}/run`, request, 300_000);
    return body.jobid;
  }

  async jobStatus(jobId: string): Promise<JobStatus | null> {
    try {
      const body = await this.call<{ status: JobStatus }>('GET', `/jobs/${jobId}/status`);
      return body.status;
    } catch (error) {
      if (isJobNotFound(error)) return null;
      throw error;
    }
  }

  async jobs(): Promise<JobOverview[]> {
    const body = await this.call<{ jobs: JobOverview[] }>('GET', '/jobs/overview');
    return body.jobs;
  }

  job(jobId: string): Promise<{ jid: string; name: string; state: JobStatus; 'start-time': number; duration: number; vertices: Array<{ id: string; name: string; parallelism: number; status: string; metrics: Record<string, number | boolean> }> }> {
    return this.call('GET', `/jobs/${jobId}`);
  }

  /** Cancels a job; a job Flink does not know (any more) counts as cancelled. */
  async cancel(jobId: string): Promise<void> {
    try {
      await this.call('PATCH', `/jobs/${jobId}?mode=cancel`);
    } catch (error) {
      if (isJobNotFound(error)) return;
      throw error;
    }
  }

  /** Starts stop-with-savepoint; returns the trigger id to poll. */
  async stopWithSavepoint(jobId: string, targetDirectory: string): Promise<string> {
    const body = await this.call<{ 'request-id': string }>('POST', `/jobs/${jobId}/stop`, { targetDirectory, drain: false, formatType: 'CANONICAL' });
    return body['request-id'];
  }

  async triggerSavepoint(jobId: string, targetDirectory: string): Promise<string> {
    const body = await this.call<{ 'request-id': string }>('POST', `/jobs/${jobId}/savepoints`, { 'target-directory': targetDirectory, 'cancel-job': false, formatType: 'CANONICAL' });
    return body['request-id'];
  }

  savepointStatus(jobId: string, triggerId: string): Promise<{ status: { id: 'IN_PROGRESS' | 'COMPLETED' }; operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string; 'class'?: string } } }> {
    return this.call('GET', `/jobs/${jobId}/savepoints/${triggerId}`);
  }

  async exceptions(jobId: string, max = 10): Promise<JobException[]> {
    const body = await this.call<{ exceptionHistory: { entries: JobException[] } }>('GET', `/jobs/${jobId}/exceptions?maxExceptions=${max}`);
    return body.exceptionHistory.entries;
  }

  async jobMetrics(jobId: string, names: string[]): Promise<Record<string, string>> {
    const rows = await this.call<Array<{ id: string; value: string }>>('GET', `/jobs/${jobId}/metrics?get=${names.join(',')}`);
    return Object.fromEntries(rows.map((row) => [row.id, row.value]));
  }

  /**
   * Metrics of a vertex aggregated over its subtasks (`subtasks/metrics?agg=sum|max`), by id. Without `names`, every
   * metric the vertex has (ids only, values absent): operator metrics are named `<operator>.<metric>`.
   */
  async vertexMetrics(jobId: string, vertexId: string, names?: string[], agg: 'sum' | 'max' = 'sum'): Promise<Record<string, number>> {
    const query = names ? `?get=${names.map(encodeURIComponent).join(',')}&agg=${agg}` : '';
    const rows = await this.call<Array<{ id: string; sum?: number; max?: number }>>('GET', `/jobs/${jobId}/vertices/${vertexId}/subtasks/metrics${query}`);
    return Object.fromEntries(rows.map((row) => [row.id, row[agg] ?? Number.NaN]));
  }

  /**
   * Every subtask's metrics of a vertex as Flink reports them (`<subtask>.<id>` with the value's text), by id. Without
   * `names`, every metric the vertex has (ids only, values absent).
   */
  async vertexSubtaskMetrics(jobId: string, vertexId: string, names?: string[]): Promise<Record<string, string | undefined>> {
    const query = names ? `?get=${names.map(encodeURIComponent).join(',')}` : '';
    const rows = await this.call<Array<{ id: string; value?: string }>>('GET', `/jobs/${jobId}/vertices/${vertexId}/metrics${query}`);
    return Object.fromEntries(rows.map((row) => [row.id, row.value]));
  }

  /** Metrics of a vertex with their minimum, maximum, sum and average over the subtasks that have them, by id. */
  async vertexMetricAggregates(jobId: string, vertexId: string, names: string[]): Promise<Record<string, { min: number; max: number; sum: number; avg: number }>> {
    const rows = await this.call<Array<{ id: string; min: number; max: number; sum: number; avg: number }>>('GET', `/jobs/${jobId}/vertices/${vertexId}/subtasks/metrics?get=${names.map(encodeURIComponent).join(',')}&agg=min,max,sum,avg`);
    return Object.fromEntries(rows.map(({ id, min, max, sum, avg }) => [id, { min, max, sum, avg }]));
  }

  checkpoints(jobId: string): Promise<{ counts: { completed: number; failed: number }; latest: { completed: null | { id: number; latest_ack_timestamp: number; state_size: number; end_to_end_duration: number; external_path: string } } }> {
    return this.call('GET', `/jobs/${jobId}/checkpoints`);
  }

  taskManagers(): Promise<{ taskmanagers: Array<{ id: string }> }> {
    return this.call('GET', '/taskmanagers');
  }

  /** The last lines of a TaskManager's log file (standalone clusters serve it over REST). */
  async taskManagerLog(taskManagerId: string): Promise<string> {
    return this.call('GET', `/taskmanagers/${encodeURIComponent(taskManagerId)}/log`, undefined, 30_000, 'text');
  }

  private async call<T>(method: string, route: string, body?: unknown, timeoutMs = this.timeoutMs, as: 'json' | 'text' = 'json'): Promise<T> {
    const url = `${this.restUrl}${route}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body instanceof FormData
          ? { body }
          : body !== undefined
            ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
            : {}),
      });
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new FlinkRestError(`Flink REST at ${this.restUrl} did not answer ${method} ${route} (${cause})`, 0, url);
    }
    const text = await response.text();
    if (!response.ok) {
      let errors: string[] = [];
      try {
        errors = (JSON.parse(text) as { errors?: string[] }).errors ?? [];
      } catch {
        errors = text ? [text.slice(0, 2000)] : [];
      }
      const first = errors[0]?.split('\n')[0] ?? response.statusText;
      throw new FlinkRestError(`Flink answered ${method} ${route} with ${response.status}: ${first}`, response.status, url, errors);
    }
    if (as === 'text') return text as T;
    return (text ? JSON.parse(text) : {}) as T;
  }
}

/** Flink 2.2 answers an unknown job id with 404 on most routes but 500 + FlinkJobNotFoundException on /status. */
function isJobNotFound(error: unknown): boolean {
  if (!(error instanceof FlinkRestError)) return false;
  return error.status === 404 || (error.status === 500 && error.errors.some((e) => /FlinkJobNotFoundException|Job could not be found/.test(e)));
}
