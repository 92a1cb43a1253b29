/**
 * Running a version of a deployment on Flink: submitting its job (with the id chosen up front), starting an
 * earlier version again (rollback, a failed upgrade, a lost job), finding the latest retained checkpoint,
 * and undoing an operation a killed process left half done. Deploy, rollback and the controller share these.
 */
import { randomBytes } from 'node:crypto';
import { FlinkRestError } from '../clients/flink.js';
import { DeployError, describe } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { RUNTIME_ENTRY_CLASS, runtimeJar } from '../install.js';
import { artifactKey, Deployment, stateKeys, type DeploymentVersion } from '../registry.js';
import { jobArguments, jobConfiguration, type KeyUri } from './job-spec.js';
import { applyVersion, artifactBytesOf, jobObjectId, kubernetesJar, waitUntilOperatorRuns } from '../kubernetes/apply.js';
import type { Session } from '../session.js';
import { cancelJob, waitUntilRunning } from './jobs.js';
import { teardown } from './teardown.js';

export interface SubmitOptions {
  jarId: string;
  artifact: string;
  restoreFrom: string | null;
  allowNonRestoredState?: boolean;
}

export async function submitJob(session: Session, deployment: Deployment, version: DeploymentVersion, run: SubmitOptions): Promise<void> {
  const { flink, target } = session;
  const job = await deployment.intend('flink-job', version.jobId, { lifecycle: 'ephemeral', version: version.version });
  failpoint('deploy:before-submit');
  const uri: KeyUri = (key) => session.store.uri(key);
  const args = jobArguments(target, uri, deployment.name, version, run.artifact, { command: target.sidecarCommand });
  try {
    await flink.runJar(run.jarId, {
      entryClass: RUNTIME_ENTRY_CLASS,
      programArgsList: args,
      jobId: version.jobId,
      ...(run.restoreFrom ? { savepointPath: run.restoreFrom, allowNonRestoredState: run.allowNonRestoredState ?? false, claimMode: 'NO_CLAIM' as const } : {}),
      flinkConfiguration: jobConfiguration(uri, deployment.name, version),
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

/** The runtime jar's id on the cluster, uploading it when the cluster does not have it. */
export async function clusterJarId(session: Session, onProgress?: (line: string) => void): Promise<{ id: string; uploaded: boolean; name: string }> {
  const jar = await runtimeJar(onProgress);
  const found = (await session.flink.listJars()).find((j) => j.name === jar.clusterName);
  if (found) return { id: found.id, uploaded: false, name: jar.clusterName };
  return { id: await session.flink.uploadJar(jar.file, jar.clusterName), uploaded: true, name: jar.clusterName };
}

/** Starts a version (again) from `restoreFrom` when given, under a new job id, and waits until it runs. */
export async function restartVersion(session: Session, deployment: Deployment, version: DeploymentVersion, restoreFrom: string | null): Promise<string> {
  if (session.target.kind === 'kubernetes') {
    // The operator stops what runs (per its upgrade mode) and starts this version's spec again.
    const { uri } = await kubernetesJar(session);
    await deployment.setVersionState(version, 'starting', { restoredFrom: restoreFrom });
    await applyVersion(session, deployment, version, uri, { artifactBytes: await artifactBytesOf(session, version), initialSavepoint: restoreFrom, allowNonRestoredState: true });
    version.jobId = await waitUntilOperatorRuns(session, jobObjectId(session, deployment.name), 600_000);
    deployment.record.current = version.version;
    await deployment.setVersionState(version, 'running');
    return `; applied version ${version.version} again`;
  }
  const { id: jarId } = await clusterJarId(session);
  version.jobId = randomBytes(16).toString('hex');
  version.restoredFrom = restoreFrom;
  await deployment.setVersionState(version, 'starting');
  await submitJob(session, deployment, version, { jarId, artifact: session.store.uri(artifactKey(version.artifactId)), restoreFrom, allowNonRestoredState: true });
  await waitUntilRunning(session.flink, version.jobId, 120_000);
  deployment.record.current = version.version;
  await deployment.setVersionState(version, 'running');
  return `; restarted version ${version.version}${restoreFrom ? ` from ${restoreFrom}` : ''}`;
}

/**
 * The newest completed checkpoint of a version's jobs (the current one and those it replaced after they were
 * lost) in the deployment's checkpoint prefix (`<jobId>/chk-<n>/_metadata`, Flink's layout), as a location to
 * restore from; null when they completed none. A job restored from checkpoint n numbers its own from n + 1,
 * so the highest number is the newest state of the version.
 */
export async function latestCheckpoint(session: Session, deployment: Deployment, version: DeploymentVersion): Promise<string | null> {
  let best: { n: number; key: string } | null = null;
  for (const jobId of [version.jobId, ...(version.lostJobs ?? [])]) {
    const prefix = `${stateKeys(deployment.name).checkpoints}${jobId}/`;
    for (const key of await session.store.list(prefix)) {
      const match = /^chk-(\d+)\/_metadata$/.exec(key.slice(prefix.length));
      if (match && (!best || Number(match[1]) > best.n)) best = { n: Number(match[1]), key: key.slice(0, -'/_metadata'.length) };
    }
  }
  return best ? session.store.uri(best.key) : null;
}

/**
 * A previous deploy, rollback or resume crashed half way (its record still has an operation): finish or undo
 * that attempt, then continue with the deployment as it was before it.
 */
export async function undoUnfinished(session: Session, deployment: Deployment): Promise<undefined> {
  const operation = deployment.record.operation;
  if (!operation || operation.version === null) {
    if (operation && operation.kind !== 'destroy') await deployment.finish();
    return undefined;
  }
  const attempt = deployment.version(operation.version);
  if (operation.kind === 'rollback' || operation.kind === 'resume') {
    // These create no resources; they start an existing version. Keep it if its job runs, else stop it.
    if (attempt && attempt.state === 'starting') {
      const status = await session.flink.jobStatus(attempt.jobId);
      if (status === 'RUNNING') {
        deployment.record.current = attempt.version;
        await deployment.setVersionState(attempt, 'running');
      } else {
        await cancelJob(session.flink, attempt.jobId);
        // A resume that did not get going leaves the version lost: the controller tries again.
        await deployment.setVersionState(attempt, operation.kind === 'resume' ? 'running' : 'stopped');
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
  const current = deployment.current;
  if (session.target.kind === 'kubernetes' && current && current.version !== operation.version) {
    // The killed upgrade may have applied its spec to the object the current version runs as: apply the current one again.
    await restartVersion(session, deployment, current, null);
  }
  await deployment.finish();
  return undefined;
}
