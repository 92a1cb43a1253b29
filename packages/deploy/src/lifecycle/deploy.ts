/**
 * `flinkfn deploy`: build → settings (every required value given?) → connect → record the deployment (write-ahead)
 * → attach the artifact → runtime jar on the cluster → attach topics → state locations → the version's secrets
 * object → stop the running version with a savepoint
 * (upgrade) → submit with a job id chosen up front → wait until RUNNING. Every resource is written to
 * the deployment record as intended before it is created and as created after; shared ones (topics,
 * artifacts) are attached through their leases. A failure rolls back what this deploy created and
 * attached, and restarts the version it replaced.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildResult } from '@flinkfn/bundler';
import type { Manifest } from '@flinkfn/sdk';
import { closest } from '@flinkfn/sdk/did-you-mean';
import type { ResolvedTarget } from '../config.js';
import { DeployError, describe } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { MissingResourceError } from '../leases.js';
import { artifactKey, Deployment, DEPLOYMENT_NAME, stateKeys, type DeploymentVersion, type Lifetime } from '../registry.js';
import { openSession, type Session } from '../session.js';
import { stopWithSavepoint, cancelJob, waitUntilRunning } from './jobs.js';
import { teardown } from './teardown.js';
import { settingsForDeploy, writeSecrets, type DeploySettings } from './settings.js';
import { clusterJarId, restartVersion, submitJob, undoUnfinished } from './versions.js';
import { applyVersion, checkCluster, jobObjectId, kubernetesJar, waitUntilOperatorRuns } from '../kubernetes/apply.js';
import { haKey, objectId } from '../kubernetes/render.js';

export type DeployStep =
  | 'build' | 'settings' | 'connect' | 'record' | 'recover' | 'artifact' | 'runtime-jar' | 'topics' | 'state'
  | 'secrets' | 'stop-previous' | 'submit' | 'wait' | 'rollback';

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
  /** Time to live from this deploy (overrides the function's `lifetime.ttl`). */
  ttlMs?: number;
  /** Stop after this long without input (overrides the function's `lifetime.idleTimeout`). */
  idleTimeoutMs?: number;
  /** Flink restarts before the job fails for good and is torn down (default: Flink's, unlimited). */
  maxRestarts?: number;
  /** Parallelism (overrides the function's); an upgrade with another one rescales its state through the savepoint. */
  parallelism?: number;
  /** Values of plain settings (`--set name=value`), over the target's `settings`. */
  settings?: Record<string, string>;
  /** Where secrets are read from (`FLINKFN_SECRET_<NAME>`); default process.env. */
  env?: NodeJS.ProcessEnv;
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
  /** When the controller will stop and tear it down (null: no TTL). */
  expiresAt: string | null;
  idleTimeoutMs: number | null;
  durationMs: number;
  /** From the start of the deploy to Flink reporting the job RUNNING (null with --no-wait). */
  runningAfterMs: number | null;
  /** From the submit call to the job's RUNNING state (scheduled; its tasks may still be initialising). */
  submitToJobRunningMs: number | null;
  /** From the submit call to every task running: sidecars started, Kafka producers initialised. */
  submitToRunningMs: number | null;
  /** Plain settings given to this version (defaults not included). */
  settings: Record<string, string>;
  /** The secrets given to this version, by name (their values went only to the secrets object). */
  secrets: string[];
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

  // Before anything exists: a missing value is an error that says how to give it.
  const settings = await step('settings', async () => {
    const value = settingsForDeploy(built.manifest, options.target, options.settings ?? {}, options.env ?? process.env);
    const given = [...Object.keys(value.plain), ...Object.keys(value.secrets).map((n) => `${n} (secret)`)];
    return { value, detail: given.length > 0 ? given.join(', ') : 'none given' };
  });

  const session = await step('connect', async () => {
    const s = await openSession(options.target, { startLocal: true, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    await s.kafka();
    if (s.target.kind === 'kubernetes') {
      try {
        return { value: s, detail: await checkCluster(s) };
      } catch (error) {
        await s.close();
        throw error;
      }
    }
    return { value: s, detail: s.target.flinkUrl };
  });
  try {
    return await deployTo(session, built, name, settings, options, step, started);
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

async function deployTo(session: Session, built: BuildResult, name: string, settings: DeploySettings, options: DeployOptions, step: Step, started: number): Promise<DeployResult> {
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
    let reuse = existing;
    if (existing?.record.ended) {
      const released = existing.record.operation === null && existing.live().every((r) => r.lifecycle === 'retain' && r.kind !== 'flink-job');
      if (!released) {
        throw new DeployError(`"${name}" ended (${existing.record.ended.reason}: ${existing.record.ended.detail}) and its teardown has not finished`, {
          step: 'record',
          hint: `The controller finishes it within a minute; or run flinkfn destroy ${name} (or flinkfn gc), then deploy again.`,
        });
      }
      // Only what it was told to retain is left, and retained resources outlive their deployment: start afresh.
      await existing.remove();
      reuse = null;
    }
    const value = reuse ?? (await Deployment.create(store, { name, functionName: manifest.name, target: target.name }));
    if (!value) throw new DeployError(`another process is deploying "${name}" right now`, { step: 'record', hint: 'Wait for it to finish, then run flinkfn deploy again.' });
    return { value, detail: value.location };
  });

  if (deployment.record.operation) {
    await step('recover', async () => ({ value: await undoUnfinished(session, deployment), detail: 'rolled back an unfinished operation' }));
  }

  if (options.parallelism !== undefined && !(Number.isInteger(options.parallelism) && options.parallelism >= 1 && options.parallelism <= 128)) {
    throw new DeployError(`parallelism ${options.parallelism} is not possible`, { step: 'record', hint: 'Use a whole number from 1 to 128 (the jobs\' fixed maximum parallelism, which keeps state rescalable).' });
  }
  const version = deployment.nextVersion();
  deployment.record.lifetime = lifetimeOf(manifest, options);
  await deployment.begin('deploy', version);
  const previous = deployment.current;
  let stoppedPrevious: DeploymentVersion | undefined;
  try {
    const artifact = await step('artifact', async () => {
      const key = artifactKey(built.id);
      const resource = await deployment.intend('s3-object', key, { lifecycle: 'ephemeral', version, shared: true, role: 'artifact' });
      // Content-addressed: every deployment of the same build attaches to the one object; only flinkfn writes under artifacts/.
      const { created } = await session.leases.attach({
        kind: 's3-object', id: key, deployment: name, role: 'artifact', lifecycle: 'ephemeral', adopt: true,
        create: () => store.putFile(key, built.file),
      });
      await deployment.mark(resource, 'created');
      return { value: store.uri(key), detail: created ? `uploaded ${store.uri(key)}` : `already in ${store.uri(key)}` };
    });

    // Kubernetes: a jarURI for the operator (in the image, or uploaded to the bucket); else the jar's id on the cluster.
    const onKubernetes = target.kind === 'kubernetes';
    const jarId = await step('runtime-jar', async () => {
      if (onKubernetes) {
        const jar = await kubernetesJar(session, options.onProgress);
        return { value: jar.uri, detail: jar.uploaded ? `uploaded ${jar.uri}` : jar.uri };
      }
      const jar = await clusterJarId(session, options.onProgress);
      return { value: jar.id, detail: jar.uploaded ? `uploaded ${jar.name}` : `already on the cluster (${jar.name})` };
    });

    const topics = await step('topics', async () => {
      const value = await attachTopics(session, deployment, manifest, version);
      const created = value.filter((t) => t.created).map((t) => t.topic);
      return { value, detail: created.length > 0 ? `created ${created.join(', ')}` : 'all exist' };
    });

    const { checkpoints, savepoints } = stateKeys(name);
    await step('state', async () => {
      // Kubernetes HA's files of a last-state FlinkDeployment go under the deployment's prefix too.
      const ha = target.kubernetes?.mode === 'application' && target.kubernetes.upgradeMode === 'last-state' ? [haKey(name)] : [];
      for (const prefix of [checkpoints, savepoints, ...ha]) {
        const resource = await deployment.intend('s3-prefix', prefix, { lifecycle: 'ephemeral', version });
        if (resource.state === 'intended') await deployment.mark(resource, 'created');
      }
      // Flink's Kafka source commits offsets under this group on each checkpoint.
      await deployment.intend('kafka-consumer-group', `flinkfn-${name}`, { lifecycle: 'ephemeral', version });
      return { value: undefined, detail: store.uri(`deployments/${name}/`) };
    });

    const secrets = await step('secrets', async () => {
      const value = await writeSecrets(session, deployment, version, settings.secrets);
      return { value, detail: value ? `${value.names.join(', ')} in ${store.uri(value.object)}` : 'none' };
    });

    let restoreFrom: string | null = null;
    if (previous && !options.fromScratch) {
      restoreFrom = previous.state === 'stopped' ? previous.savepoint : null;
    }
    if (previous && (previous.state === 'running' || previous.state === 'starting') && onKubernetes) {
      // The operator upgrades: applying the new spec makes it stop the job per its upgrade mode and start the new
      // version from that state. --from-scratch is not offered there (it would need a new object name).
      if (options.fromScratch) throw new DeployError('--from-scratch is not supported on a Kubernetes target yet', { step: 'stop-previous', hint: `flinkfn destroy ${name}, then deploy again.` });
      stoppedPrevious = previous;
    } else if (previous && (previous.state === 'running' || previous.state === 'starting')) {
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
    const record: DeploymentVersion = {
      version, artifactId: built.id, jobId, state: 'starting', restoredFrom: restoreFrom, savepoint: null, deployedAt: new Date().toISOString(), entry,
      ...(options.maxRestarts !== undefined ? { maxRestarts: options.maxRestarts } : {}),
      ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}),
      ...(Object.keys(settings.plain).length > 0 ? { settings: settings.plain } : {}),
      ...(secrets ? { secrets } : {}),
    };
    await deployment.addVersion(record);
    const submitted = performance.now();
    await step('submit', async () => {
      if (onKubernetes) {
        const objects = await applyVersion(session, deployment, record, jarId, { artifactBytes: await readFile(built.file), initialSavepoint: restoreFrom, allowNonRestoredState: false });
        return { value: undefined, detail: `applied ${objects.map(objectId).join(', ')}` };
      }
      await submitJob(session, deployment, record, { jarId, artifact, restoreFrom });
      return { value: undefined, detail: `job ${jobId}${restoreFrom ? ` from ${restoreFrom}` : ''}` };
    });

    let submitToRunningMs: number | null = null;
    let submitToJobRunningMs: number | null = null;
    if (options.wait !== false) {
      await step('wait', async () => {
        if (onKubernetes) {
          // Pods are scheduled, images pulled, and an upgrade takes its savepoint first: a longer default.
          const operatorJobId = await waitUntilOperatorRuns(session, jobObjectId(session, name), options.startTimeoutMs ?? 600_000);
          submitToJobRunningMs = submitToRunningMs = Math.round(performance.now() - submitted);
          await deployment.setVersionState(record, 'starting', { jobId: operatorJobId });
          return { value: undefined, detail: `the operator runs job ${operatorJobId} after ${submitToRunningMs} ms` };
        }
        const jobRunningAt = await waitUntilRunning(flink, jobId, options.startTimeoutMs ?? 120_000);
        submitToJobRunningMs = Math.round(jobRunningAt - submitted);
        submitToRunningMs = Math.round(performance.now() - submitted);
        return { value: undefined, detail: `job RUNNING after ${submitToJobRunningMs} ms, every task after ${submitToRunningMs} ms` };
      });
    }
    // On Kubernetes the operator stopped the previous version as it upgraded to this one.
    if (onKubernetes && stoppedPrevious) await deployment.setVersionState(stoppedPrevious, 'stopped');
    deployment.record.current = version;
    await deployment.setVersionState(record, 'running');
    await deployment.finish();
    return {
      name,
      version,
      jobId: record.jobId,
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
      expiresAt: deployment.record.lifetime?.expiresAt ?? null,
      idleTimeoutMs: deployment.record.lifetime?.idleTimeoutMs ?? null,
      durationMs: Math.round(performance.now() - started),
      runningAfterMs: submitToJobRunningMs === null ? null : Math.round(submitted - started + submitToJobRunningMs),
      submitToJobRunningMs,
      submitToRunningMs,
      settings: settings.plain,
      secrets: Object.keys(settings.secrets),
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

/**
 * Attaches the deployment to every topic it uses: its outputs (created when missing) and its source (which
 * must exist unless the function declares `source.create`). The record lists each as intended first.
 */
async function attachTopics(session: Session, deployment: Deployment, manifest: Manifest, version: number): Promise<DeployResult['topics']> {
  const source = manifest.source;
  const wanted = [
    // The source first: a missing one fails the deploy before any output topic exists.
    { topic: source.topic, partitions: source.create?.partitions ?? 1, lifecycle: 'ephemeral' as const, role: 'source', create: Boolean(source.create) },
    ...manifest.sinks.map((s) => ({ topic: s.topic, partitions: s.partitions, lifecycle: s.lifecycle, role: `sink:${s.name}`, create: true })),
    ...(manifest.sideOutputs.late ? [{ ...manifest.sideOutputs.late, role: 'late', create: true }] : []),
    { ...manifest.sideOutputs.deadLetter, role: 'dead-letter', create: true },
  ];
  const resources = await deployment.intendAll('kafka-topic', wanted.map((w) => w.topic), {
    lifecycle: (id) => wanted.find((w) => w.topic === id)!.lifecycle,
    role: (id) => wanted.find((w) => w.topic === id)!.role,
    version,
    shared: true,
  });
  failpoint('deploy:before-topic');
  const admin = await session.kafka();
  const result: DeployResult['topics'] = [];
  for (const w of wanted) {
    try {
      const { created } = await session.leases.attach({
        kind: 'kafka-topic', id: w.topic, deployment: deployment.name, role: w.role, lifecycle: w.lifecycle,
        ...(w.create ? { create: async () => void (await admin.ensureTopics([w])) } : {}),
      });
      result.push({ topic: w.topic, role: w.role, created });
    } catch (error) {
      if (error instanceof MissingResourceError) throw await missingSource(session, w.topic);
      throw error;
    }
  }
  await deployment.mark(resources.filter((r) => r.state === 'intended'), 'created');
  return result;
}

async function missingSource(session: Session, topic: string): Promise<DeployError> {
  const existing = (await (await session.kafka()).listTopics()).filter((t) => !t.startsWith('__'));
  const suggestion = closest(topic, existing);
  return new DeployError(`the source topic "${topic}" does not exist`, {
    step: 'topics',
    hint: `${suggestion ? `Did you mean "${suggestion}"? ` : ''}Fix source.topic, create the topic, or declare source: { topic: '${topic}', create: true } to let flinkfn create it (it is then deleted when the last function using it ends).`,
  });
}

/** The deployment's time limits: command-line options over the function's declaration. */
function lifetimeOf(manifest: Manifest, options: DeployOptions): Lifetime | null {
  const ttlMs = options.ttlMs ?? manifest.lifetime?.ttlMs ?? null;
  const idleTimeoutMs = options.idleTimeoutMs ?? manifest.lifetime?.idleTimeoutMs ?? null;
  if (ttlMs === null && idleTimeoutMs === null) return null;
  return { ttlMs, idleTimeoutMs, expiresAt: ttlMs === null ? null : new Date(Date.now() + ttlMs).toISOString() };
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

