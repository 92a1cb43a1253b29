/**
 * `flinkfn deploy`: build → connect → record the deployment (write-ahead) → upload the artifact →
 * runtime jar on the cluster → topics → state locations → stop the running version with a savepoint
 * (upgrade) → submit with a job id chosen up front → wait until RUNNING. Every resource is written to
 * the deployment record as intended before it is created and as created after; a failure rolls back
 * what this deploy created and restarts the version it replaced.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { BuildResult } from '@flinkfn/bundler';
import type { Manifest } from '@flinkfn/sdk';
import { FlinkRestError } from '../clients/flink.js';
import { jobKafkaProperties } from '../clients/kafka.js';
import type { ResolvedTarget } from '../config.js';
import { DeployError, describe } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { RUNTIME_ENTRY_CLASS, runtimeJar } from '../install.js';
import { artifactKey, Deployment, DEPLOYMENT_NAME, stateKeys, type DeploymentVersion } from '../registry.js';
import { openSession, type Session } from '../session.js';
import { stopWithSavepoint, cancelJob, waitUntilRunning } from './jobs.js';
import { teardown } from './teardown.js';

export type DeployStep =
  | 'build' | 'connect' | 'record' | 'recover' | 'artifact' | 'runtime-jar' | 'topics' | 'state'
  | 'stop-previous' | 'submit' | 'wait' | 'rollback';

export interface StepEvent {
  step: DeployStep;
  phase: 'start' | 'done';
  detail?: string;
  ms?: number;
}

export interface DeployOptions {
  target: ResolvedTarget;
  /** Project directory. */
  root: string;
  entry?: string;
  /** Deployment name (default: the function's name). */
  name?: string;
  fromScratch?: boolean;
  wait?: boolean;
  savepointTimeoutMs?: number;
  startTimeoutMs?: number;
  onStep?: (event: StepEvent) => void;
  onProgress?: (line: string) => void;
}

export interface DeployResult {
  name: string;
  version: number;
  jobId: string;
  state: 'RUNNING' | 'SUBMITTED';
  artifactId: string;
  artifact: string;
  functionName: string;
  flinkUrl: string;
  jobUrl: string;
  topics: Array<{ topic: string; role: string; created: boolean }>;
  upgradedFrom: number | null;
  restoredFrom: string | null;
  record: string;
  durationMs: number;
  /** From the start of the deploy to Flink reporting the job RUNNING (null with --no-wait). */
  runningAfterMs: number | null;
  /** From the submit call to the job's RUNNING state (scheduled; its tasks may still be initialising). */
  submitToJobRunningMs: number | null;
  /** From the submit call to every task running: sidecars started, Kafka producers initialised. */
  submitToRunningMs: number | null;
}

export async function deploy(options: DeployOptions): Promise<DeployResult> {
  const started = performance.now();
  const step = stepper(options.onStep);

  const built = await step('build', async () => {
    const { build } = await import('@flinkfn/bundler');
    const result = await build({ root: options.root, ...(options.entry ? { entry: options.entry } : {}) });
    return { value: result, detail: `${result.manifest.name} ${result.id.slice(0, 12)}` };
  });
  const name = options.name ?? built.manifest.name;
  if (!DEPLOYMENT_NAME.test(name)) {
    throw new DeployError(`"${name}" cannot name a deployment`, { step: 'build', hint: 'Use lower-case letters, digits and dashes, starting with a letter (--name).' });
  }

  const session = await step('connect', async () => {
    const s = await openSession(options.target, { startLocal: true, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    await s.kafka();
    return { value: s, detail: s.target.flinkUrl };
  });
  try {
    return await deployTo(session, built, name, options, step, started);
  } finally {
    await session.close();
  }
}

type Step = <T>(name: DeployStep, run: () => Promise<{ value: T; detail?: string }>) => Promise<T>;

function stepper(onStep: DeployOptions['onStep']): Step {
  return async (name, run) => {
    const t0 = performance.now();
    onStep?.({ step: name, phase: 'start' });
    const { value, detail } = await run();
    onStep?.({ step: name, phase: 'done', ms: Math.round(performance.now() - t0), ...(detail ? { detail } : {}) });
    failpoint(`deploy:after-${name}`);
    return value;
  };
}

async function deployTo(session: Session, built: BuildResult, name: string, options: DeployOptions, step: Step, started: number): Promise<DeployResult> {
  const { store, flink, target } = session;
  const manifest = built.manifest;

  const deployment = await step('record', async () => {
    const existing = await Deployment.load(store, name);
    if (existing?.record.operation?.kind === 'destroy') {
      throw new DeployError(`a destroy of "${name}" started at ${existing.record.operation.startedAt} did not finish`, { step: 'record', hint: `Run flinkfn destroy ${name} to finish it, then deploy again.` });
    }
    if (existing && existing.record.functionName !== manifest.name) {
      throw new DeployError(`the deployment "${name}" runs the function "${existing.record.functionName}", not "${manifest.name}"`, { step: 'record', hint: 'Pick another --name, or destroy the other deployment first.' });
    }
    const value = existing ?? (await Deployment.create(store, { name, functionName: manifest.name, target: target.name }));
    return { value, detail: value.location };
  });

  if (deployment.record.operation) {
    await step('recover', async () => ({ value: await undoUnfinished(session, deployment), detail: 'rolled back an unfinished operation' }));
  }

  const version = deployment.nextVersion();
  await deployment.begin('deploy', version);
  const previous = deployment.current;
  let stoppedPrevious: DeploymentVersion | undefined;
  try {
    const artifact = await step('artifact', async () => {
      const key = artifactKey(built.id);
      const resource = await deployment.intend('s3-object', key, { lifecycle: 'ephemeral', version, shared: true });
      const uploaded = !(await store.exists(key));
      if (uploaded) await store.putFile(key, built.file);
      await deployment.mark(resource, 'created');
      return { value: store.uri(key), detail: uploaded ? `uploaded ${store.uri(key)}` : `already in ${store.uri(key)}` };
    });

    const jarId = await step('runtime-jar', async () => {
      const jar = await runtimeJar(options.onProgress);
      const found = (await flink.listJars()).find((j) => j.name === jar.clusterName);
      if (found) return { value: found.id, detail: `already on the cluster (${jar.clusterName})` };
      return { value: await flink.uploadJar(jar.file, jar.clusterName), detail: `uploaded ${jar.clusterName}` };
    });

    const topics = await step('topics', async () => {
      const value = await createTopics(session, deployment, manifest, version);
      const created = value.filter((t) => t.created).map((t) => t.topic);
      return { value, detail: created.length > 0 ? `created ${created.join(', ')}` : 'all exist' };
    });

    const { checkpoints, savepoints } = stateKeys(name);
    await step('state', async () => {
      for (const prefix of [checkpoints, savepoints]) {
        const resource = await deployment.intend('s3-prefix', prefix, { lifecycle: 'ephemeral', version });
        if (resource.state === 'intended') await deployment.mark(resource, 'created');
      }
      // Flink's Kafka source commits offsets under this group on each checkpoint.
      await deployment.intend('kafka-consumer-group', `flinkfn-${name}`, { lifecycle: 'ephemeral', version });
      return { value: undefined, detail: store.uri(`deployments/${name}/`) };
    });

    let restoreFrom: string | null = null;
    if (previous && !options.fromScratch) {
      restoreFrom = previous.state === 'stopped' ? previous.savepoint : null;
    }
    if (previous && (previous.state === 'running' || previous.state === 'starting')) {
      restoreFrom = await step('stop-previous', async () => {
        if (options.fromScratch) {
          await cancelJob(flink, previous.jobId);
          await deployment.setVersionState(previous, 'cancelled');
          stoppedPrevious = previous;
          return { value: null, detail: `cancelled version ${previous.version} (--from-scratch)` };
        }
        const location = await stopWithSavepoint(flink, previous.jobId, store.uri(savepoints), options.savepointTimeoutMs ?? 60_000);
        await deployment.setVersionState(previous, 'stopped', { savepoint: location });
        stoppedPrevious = previous;
        return { value: location, detail: `version ${previous.version} stopped with savepoint ${location}` };
      });
    }

    const jobId = randomBytes(16).toString('hex');
    const entry = relativeEntry(options.root, built);
    const record: DeploymentVersion = { version, artifactId: built.id, jobId, state: 'starting', restoredFrom: restoreFrom, savepoint: null, deployedAt: new Date().toISOString(), entry };
    await deployment.addVersion(record);
    const submitted = performance.now();
    await step('submit', async () => {
      await submitJob(session, deployment, record, { jarId, artifact, name, restoreFrom });
      return { value: undefined, detail: `job ${jobId}${restoreFrom ? ` from ${restoreFrom}` : ''}` };
    });

    let submitToRunningMs: number | null = null;
    let submitToJobRunningMs: number | null = null;
    if (options.wait !== false) {
      await step('wait', async () => {
        const jobRunningAt = await waitUntilRunning(flink, jobId, options.startTimeoutMs ?? 120_000);
        submitToJobRunningMs = Math.round(jobRunningAt - submitted);
        submitToRunningMs = Math.round(performance.now() - submitted);
        return { value: undefined, detail: `job RUNNING after ${submitToJobRunningMs} ms, every task after ${submitToRunningMs} ms` };
      });
    }
    deployment.record.current = version;
    await deployment.setVersionState(record, 'running');
    await deployment.finish();
    return {
      name,
      version,
      jobId,
      state: options.wait === false ? 'SUBMITTED' : 'RUNNING',
      artifactId: built.id,
      artifact,
      functionName: manifest.name,
      flinkUrl: target.flinkUrl,
      jobUrl: `${target.flinkUrl}/#/job/running/${jobId}/overview`,
      topics,
      upgradedFrom: previous?.version ?? null,
      restoredFrom: restoreFrom,
      record: deployment.location,
      durationMs: Math.round(performance.now() - started),
      runningAfterMs: submitToJobRunningMs === null ? null : Math.round(submitted - started + submitToJobRunningMs),
      submitToJobRunningMs,
      submitToRunningMs,
    };
  } catch (error) {
    options.onStep?.({ step: 'rollback', phase: 'start' });
    const undone = await rollbackAttempt(session, deployment, version, stoppedPrevious).catch((rollbackError: unknown) => {
      throw new DeployError(`deploy failed (${describe(error)}) and so did its rollback: ${describe(rollbackError)}`, {
        step: 'rollback',
        hint: `The deployment record ${deployment.location} lists what may exist; flinkfn destroy ${name} removes it.`,
        cause: error,
      });
    });
    options.onStep?.({ step: 'rollback', phase: 'done', detail: undone });
    if (error instanceof DeployError) {
      throw new DeployError(`${error.message}; ${undone}`, { ...(error.step ? { step: error.step } : {}), ...(error.hint ? { hint: error.hint } : {}), cause: error.cause });
    }
    throw new DeployError(`deploy failed: ${describe(error)}; ${undone}`, { cause: error });
  }
}

function relativeEntry(root: string, built: BuildResult): string {
  return built.manifest.bundle.entry || path.relative(root, built.file);
}

async function submitJob(session: Session, deployment: Deployment, version: DeploymentVersion, run: { jarId: string; artifact: string; name: string; restoreFrom: string | null; allowNonRestoredState?: boolean }): Promise<void> {
  const { flink, store, target } = session;
  const job = await deployment.intend('flink-job', version.jobId, { lifecycle: 'ephemeral', version: version.version });
  failpoint('deploy:before-submit');
  const { checkpoints, savepoints } = stateKeys(run.name);
  const args = [
    '--artifact', run.artifact,
    '--artifact-id', version.artifactId,
    '--bootstrap-servers', target.kafka.brokers.join(','),
    '--deployment-id', run.name,
    '--sidecar-command', target.sidecarCommand,
    '--checkpoint-interval-ms', String(target.checkpointIntervalMs),
    ...Object.entries(jobKafkaProperties(target)).flatMap(([key, value]) => ['--kafka-property', `${key}=${value}`]),
  ];
  try {
    await flink.runJar(run.jarId, {
      entryClass: RUNTIME_ENTRY_CLASS,
      programArgsList: args,
      jobId: version.jobId,
      ...(run.restoreFrom ? { savepointPath: run.restoreFrom, allowNonRestoredState: run.allowNonRestoredState ?? false, claimMode: 'NO_CLAIM' as const } : {}),
      flinkConfiguration: {
        'pipeline.name': `flinkfn: ${run.name} v${version.version}`,
        'execution.checkpointing.dir': store.uri(checkpoints),
        'execution.checkpointing.savepoint-dir': store.uri(savepoints),
      },
    });
  } catch (error) {
    // The job id is fixed, so a retried submit of a job that already exists is not a second job.
    if (!(error instanceof FlinkRestError && /DuplicateJobSubmission|already been submitted/i.test(error.errors.join('\n')))) {
      const reason = error instanceof FlinkRestError ? (error.errors.join('\n').match(/Caused by: ([^\n]+)/g)?.at(-1)?.slice('Caused by: '.length) ?? error.message) : describe(error);
      throw new DeployError(`Flink did not accept the job: ${reason}`, { step: 'submit', hint: 'flinkfn logs <name> and the JobManager log (flinkfn local logs flink) have details.', cause: error });
    }
  }
  await deployment.mark(job, 'created');
}

/** Creates the topics the function writes (and its source, when missing); records the ones it creates. */
async function createTopics(session: Session, deployment: Deployment, manifest: Manifest, version: number): Promise<DeployResult['topics']> {
  const admin = await session.kafka();
  const wanted = [
    ...manifest.sinks.map((s) => ({ topic: s.topic, partitions: s.partitions, lifecycle: s.lifecycle, role: `sink:${s.name}` })),
    ...(manifest.sideOutputs.late ? [{ ...manifest.sideOutputs.late, role: 'late' }] : []),
    { ...manifest.sideOutputs.deadLetter, role: 'dead-letter' },
    { topic: manifest.source.topic, partitions: 1, lifecycle: 'ephemeral' as const, role: 'source' },
  ];
  const unique = wanted.filter((w, i) => wanted.findIndex((x) => x.topic === w.topic) === i);
  // Topics that exist and that this deployment did not create are someone else's (or a shared source): used, never deleted.
  const existing = new Set(await admin.listTopics());
  const ours = unique.filter((w) => {
    const tracked = deployment.resource('kafka-topic', w.topic);
    return (tracked !== undefined && tracked.state !== 'deleted') || !existing.has(w.topic);
  });
  const resources = await deployment.intendAll('kafka-topic', ours.map((w) => w.topic), { lifecycle: (id) => ours.find((w) => w.topic === id)!.lifecycle, version });
  failpoint('deploy:before-topic');
  const created = new Set(await admin.ensureTopics(ours));
  await deployment.mark(resources.filter((r) => r.state === 'intended'), 'created');
  const result: DeployResult['topics'] = unique.map((w) => ({ topic: w.topic, role: w.role, created: created.has(w.topic) }));
  return result;
}

/**
 * Undoes a failed deploy of `version`: cancels its job, deletes what it created, and restarts the version
 * it stopped (from that version's savepoint). Returns a sentence for the error report.
 */
async function rollbackAttempt(session: Session, deployment: Deployment, version: number, stopped: DeploymentVersion | undefined): Promise<string> {
  const created = deployment.live().filter((r) => r.version === version);
  await teardown(session, deployment, created, { failpointPrefix: 'deploy-rollback', deleteRetained: true });
  const attempt = deployment.version(version);
  if (attempt) await deployment.setVersionState(attempt, 'failed');
  let restarted = '';
  if (stopped) {
    restarted = await restartVersion(session, deployment, stopped, stopped.savepoint);
  }
  if (deployment.record.versions.every((v) => v.state === 'failed') && deployment.live().length === 0) {
    await deployment.remove();
    return `rolled back: removed the ${created.length} resource(s) it had created and its deployment record`;
  }
  await deployment.finish();
  return `rolled back: removed the ${created.length} resource(s) it had created${restarted}`;
}

/** Starts an earlier version again (from `savepoint` when given) under a new job id. */
export async function restartVersion(session: Session, deployment: Deployment, version: DeploymentVersion, savepoint: string | null): Promise<string> {
  const jar = await runtimeJar();
  const jarId = (await session.flink.listJars()).find((j) => j.name === jar.clusterName)?.id ?? (await session.flink.uploadJar(jar.file, jar.clusterName));
  version.jobId = randomBytes(16).toString('hex');
  version.restoredFrom = savepoint;
  await deployment.setVersionState(version, 'starting');
  await submitJob(session, deployment, version, { jarId, artifact: session.store.uri(artifactKey(version.artifactId)), name: deployment.name, restoreFrom: savepoint, allowNonRestoredState: true });
  await waitUntilRunning(session.flink, version.jobId, 120_000);
  deployment.record.current = version.version;
  await deployment.setVersionState(version, 'running');
  return `; restarted version ${version.version}${savepoint ? ` from ${savepoint}` : ''}`;
}

/**
 * A previous deploy or rollback crashed half way (its record still has an operation): undo that attempt,
 * then continue with the deployment as it was before it.
 */
export async function undoUnfinished(session: Session, deployment: Deployment): Promise<undefined> {
  const operation = deployment.record.operation;
  if (!operation || operation.version === null) return undefined;
  const attempt = deployment.version(operation.version);
  if (operation.kind === 'rollback') {
    // A rollback creates no resources; it restarts an existing version. Keep it if its job runs, else stop it.
    if (attempt && attempt.state === 'starting') {
      const status = await session.flink.jobStatus(attempt.jobId);
      if (status === 'RUNNING') {
        deployment.record.current = attempt.version;
        await deployment.setVersionState(attempt, 'running');
      } else {
        await cancelJob(session.flink, attempt.jobId);
        await deployment.setVersionState(attempt, 'stopped');
      }
    }
    await deployment.finish();
    return undefined;
  }
  if (attempt && attempt.state === 'running' && deployment.record.current === attempt.version) {
    // It had finished everything but clearing the operation.
    await deployment.finish();
    return undefined;
  }
  const created = deployment.live().filter((r) => r.version === operation.version);
  await teardown(session, deployment, created, { failpointPrefix: 'recover', deleteRetained: true });
  if (attempt) await deployment.setVersionState(attempt, 'failed');
  await deployment.finish();
  return undefined;
}
