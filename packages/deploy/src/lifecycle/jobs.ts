/**
 * Waiting on Flink jobs: until they run, until a savepoint completes, until a cancel took effect. Every
 * wait is time-boxed (a savepoint that cannot complete must not hang a deploy or a destroy).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_JOB_STATES, type FlinkClient, type JobException } from '../clients/flink.js';
import { DeployError } from '../errors.js';

const POLL_MS = 100;

/** The first lines of a job's most recent exception, for error messages. */
export function summarize(exception: JobException | undefined): string {
  if (!exception) return 'no exception recorded';
  const lines = exception.stacktrace.split('\n');
  const causes = lines.filter((line) => line.startsWith('Caused by:')).map((line) => line.slice('Caused by: '.length));
  const root = causes.at(-1) ?? lines[0] ?? exception.exceptionName;
  return `${root}${exception.taskName ? ` (in ${exception.taskName})` : ''}`;
}

/**
 * Resolves when the job and all its tasks run, or when it already finished without an exception (a bounded
 * job). A job that reports an exception while starting has failed to start (with checkpointing on, Flink would
 * otherwise restart it forever).
 */
export async function waitUntilRunning(flink: FlinkClient, jobId: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let jobRunningAt: number | undefined;
  for (;;) {
    const status = await flink.jobStatus(jobId);
    if (status !== null && status !== 'INITIALIZING' && status !== 'CREATED') {
      const exceptions = await flink.exceptions(jobId, 1);
      // A bounded job (source.until) can run to its end before a poll sees it running: that is a success.
      if (status === 'FINISHED' && exceptions.length === 0) return jobRunningAt ?? performance.now();
      if (exceptions.length > 0 || status === 'FAILING' || status === 'RESTARTING' || TERMINAL_JOB_STATES.has(status)) {
        throw new DeployError(`the job failed while starting (${status}): ${summarize(exceptions[0])}`, {
          step: 'wait',
          hint: 'flinkfn logs <name> shows the whole exception. Check the handler with flinkfn dev on sample events.',
        });
      }
      if (status === 'RUNNING') {
        jobRunningAt ??= performance.now();
        const job = await flink.job(jobId);
        if (job.vertices.every((vertex) => vertex.status === 'RUNNING')) return jobRunningAt;
      }
    }
    if (Date.now() > deadline) {
      throw new DeployError(`the job did not reach RUNNING within ${Math.round(timeoutMs / 1000)} s (last state ${status ?? 'unknown'})`, {
        step: 'wait',
        hint: 'Are there free task slots? flinkfn status and the Flink UI show what it waits for; --no-wait returns after submission.',
      });
    }
    await sleep(POLL_MS);
  }
}

/** Stops a job with a savepoint into `directory`; returns the savepoint's location. */
export async function stopWithSavepoint(flink: FlinkClient, jobId: string, directory: string, timeoutMs: number): Promise<string> {
  const trigger = await flink.stopWithSavepoint(jobId, directory);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await flink.savepointStatus(jobId, trigger);
    if (result.status.id === 'COMPLETED') {
      const location = result.operation?.location;
      if (location) {
        await waitUntilEnded(flink, jobId, 30_000);
        return location;
      }
      const cause = result.operation?.['failure-cause']?.['stack-trace']?.split('\n')[0] ?? 'unknown cause';
      throw new DeployError(`the savepoint of job ${jobId} failed: ${cause}`, { step: 'savepoint', hint: 'Pass --from-scratch to replace the job without its state.' });
    }
    if (Date.now() > deadline) {
      throw new DeployError(`the savepoint of job ${jobId} did not complete within ${Math.round(timeoutMs / 1000)} s`, {
        step: 'savepoint',
        hint: 'The job keeps running. Pass --from-scratch to replace it without its state, or --savepoint-timeout to wait longer.',
      });
    }
    await sleep(POLL_MS * 2);
  }
}

/** Cancels a job and waits until Flink reports it ended (or forgets it). */
export async function cancelJob(flink: FlinkClient, jobId: string, timeoutMs = 60_000): Promise<void> {
  const status = await flink.jobStatus(jobId);
  if (status === null || TERMINAL_JOB_STATES.has(status)) return;
  await flink.cancel(jobId);
  await waitUntilEnded(flink, jobId, timeoutMs);
}

async function waitUntilEnded(flink: FlinkClient, jobId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await flink.jobStatus(jobId);
    if (status === null || TERMINAL_JOB_STATES.has(status)) return;
    if (Date.now() > deadline) throw new DeployError(`job ${jobId} is still ${status} after ${Math.round(timeoutMs / 1000)} s`, { step: 'stop' });
    await sleep(POLL_MS);
  }
}
