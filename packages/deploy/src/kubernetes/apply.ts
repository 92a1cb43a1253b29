/**
 * A version of a function on a Kubernetes target: its objects written to the deployment record (intended, then
 * created) around `kubectl apply`, owners before what they own; then waiting until the operator reports the job
 * running for this very spec (its generation). Upgrades are the operator's: applying a changed spec makes it stop
 * the job per the upgrade mode (savepoint, or last-state) and start the new one from that state.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { JOB_STATUSES, type JobStatus } from '../clients/flink.js';
import { DeployError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { runtimeJar } from '../install.js';
import { artifactKey, type Deployment, type DeploymentVersion } from '../registry.js';
import type { Session } from '../session.js';
import { kubectlMessage } from './kubectl.js';
import { kubernetesOf, objectId, renderFunction, type KubernetesObject } from './render.js';

export interface ApplyOptions {
  artifactBytes: Uint8Array;
  initialSavepoint: string | null;
  allowNonRestoredState: boolean;
}

/** Checks that kubectl reaches the cluster and the operator's CRDs are installed in it (the connect step). */
export async function checkCluster(session: Session): Promise<string> {
  const k8s = kubernetesOf(session.target);
  const result = await session.kubectl().run(['get', 'flinkdeployments.flink.apache.org', '-n', k8s.namespace, '--request-timeout=30s', '-o', 'name']);
  if (result.code !== 0) {
    const missingCrd = /doesn't have a resource type|the server could not find the requested resource/i.test(result.stderr);
    throw new DeployError(missingCrd ? 'the cluster has no FlinkDeployment resource: the Flink Kubernetes Operator is not installed' : `kubectl cannot list FlinkDeployments in "${k8s.namespace}": ${kubectlMessage(result.stderr)}`, {
      step: 'connect',
      hint: missingCrd ? 'Install the operator with its Helm chart (docs/kubernetes.md).' : 'Check the kubectl context (kubectl config current-context) and that you may read and write FlinkDeployments there (docs/kubernetes.md, RBAC).',
    });
  }
  return `namespace ${k8s.namespace}`;
}

/**
 * The runtime jar's URI for the target: the configured one (application mode default: in the image), else the jar
 * uploaded to the bucket once under `runtime/` (session jobs: the operator downloads it), shared by every function.
 */
export async function kubernetesJar(session: Session, onProgress?: (line: string) => void): Promise<{ uri: string; uploaded: boolean }> {
  const k8s = kubernetesOf(session.target);
  if (k8s.runtimeJar) return { uri: k8s.runtimeJar, uploaded: false };
  const jar = await runtimeJar(onProgress);
  const key = `runtime/${jar.clusterName}`;
  if (await session.store.exists(key)) return { uri: session.store.uri(key), uploaded: false };
  await session.store.putFile(key, jar.file);
  return { uri: session.store.uri(key), uploaded: true };
}

/** The bytes of a version's artifact, from the bucket (a rollback or restart re-renders an earlier version). */
export async function artifactBytesOf(session: Session, version: DeploymentVersion): Promise<Buffer> {
  const text = await session.store.getText(artifactKey(version.artifactId));
  if (text === null) throw new DeployError(`the artifact of version ${version.version} is gone from ${session.store.uri(artifactKey(version.artifactId))}`, { step: 'submit', hint: 'Deploy the function again instead.' });
  return Buffer.from(text, 'utf8');
}

/** The record's id of the object that is the version's job: its FlinkDeployment, or its FlinkSessionJob. */
export function jobObjectId(session: Session, name: string): string {
  const k8s = kubernetesOf(session.target);
  return `${k8s.mode === 'application' ? 'FlinkDeployment' : 'FlinkSessionJob'}/${k8s.namespace}/${name}`;
}

/**
 * The job's state as the operator reports it (`status.jobStatus.state`), for `ls` and `status` on a target without
 * Flink's REST API; 'UNKNOWN' while it reports none, null when the object is gone.
 */
export async function operatorJobState(session: Session, name: string): Promise<JobStatus | 'UNKNOWN' | null> {
  const line = await session.kubectl().field(jobObjectId(session, name), STATUS_JSONPATH);
  if (line === null) return null;
  const state = parseStatus(line).jobState;
  return JOB_STATUSES.find((s) => s === state) ?? 'UNKNOWN';
}

/** Renders and applies a version; each object is recorded as intended before it is applied, created after. */
export async function applyVersion(session: Session, deployment: Deployment, version: DeploymentVersion, jarUri: string, options: ApplyOptions): Promise<KubernetesObject[]> {
  const k8s = kubernetesOf(session.target);
  const kubectl = session.kubectl();
  const input = {
    target: session.target, name: deployment.name, functionName: deployment.record.functionName, version, artifactBytes: options.artifactBytes, jarUri,
    initialSavepoint: options.initialSavepoint, allowNonRestoredState: options.allowNonRestoredState,
  };
  const draft = renderFunction(input);
  // Application mode: the first object (the FlinkDeployment) owns the rest. Session mode: the session cluster owns
  // the session job; it is not this deployment's, so it must exist already.
  const ownerId = k8s.mode === 'application' ? objectId(draft[0]!) : `FlinkDeployment/${k8s.namespace}/${k8s.sessionDeployment}`;
  const dependents = new Set(draft.filter((o) => objectId(o) !== ownerId).map(objectId));
  const resources = await deployment.intendAll('kubernetes-object', draft.map(objectId), {
    lifecycle: () => 'ephemeral',
    version: version.version,
    ownedBy: (id) => (dependents.has(id) ? ownerId : undefined),
  });
  failpoint('deploy:before-apply');
  if (k8s.mode === 'application') await kubectl.apply([draft[0]!]);
  const ownerUid = await kubectl.uid(ownerId);
  if (ownerUid === null) {
    throw new DeployError(`${ownerId} does not exist`, {
      step: 'submit',
      hint: k8s.mode === 'session' ? 'Apply the session cluster first: flinkfn render --session-cluster | kubectl apply -f - (docs/kubernetes.md).' : 'The operator or someone deleted it meanwhile; deploy again.',
    });
  }
  const objects = renderFunction({ ...input, ownerUid });
  await kubectl.apply(objects.filter((o) => dependents.has(objectId(o))));
  await deployment.mark(resources.filter((r) => r.state === 'intended'), 'created');
  return objects;
}

/** What `kubectl get` says of a FlinkDeployment or FlinkSessionJob, as far as a deploy waits on it. */
export interface OperatorStatus {
  generation: number;
  observedGeneration: number | null;
  lifecycleState: string | null;
  jobState: string | null;
  jobId: string | null;
  error: string | null;
}

export const STATUS_JSONPATH = '{.metadata.generation}|{.status.observedGeneration}|{.status.lifecycleState}|{.status.jobStatus.state}|{.status.jobStatus.jobId}|{.status.error}';

export function parseStatus(line: string): OperatorStatus {
  const [generation, observed, lifecycle, job, jobId, ...error] = line.split('|');
  const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);
  return {
    generation: Number(generation),
    observedGeneration: observed ? Number(observed) : null,
    lifecycleState: orNull(lifecycle),
    jobState: orNull(job),
    jobId: orNull(jobId),
    error: orNull(error.join('|')),
  };
}

/**
 * Whether the operator runs the spec last applied: it has observed this generation, the job is RUNNING and the
 * resource is DEPLOYED or STABLE. FAILED, a rollback by the operator, or a terminal job state are failures; an
 * `error` alone is not (the operator reports transient ones while it retries), unless the lifecycle says so.
 */
export function judgeStatus(status: OperatorStatus): { outcome: 'running'; jobId: string } | { outcome: 'pending' } | { outcome: 'failed'; reason: string } {
  if (status.observedGeneration === null || status.observedGeneration < status.generation) return { outcome: 'pending' };
  const reason = (what: string): string => `${what}${status.error ? `: ${status.error}` : ''}`;
  if (status.lifecycleState === 'FAILED') return { outcome: 'failed', reason: reason('the operator reports FAILED') };
  if (status.lifecycleState === 'ROLLING_BACK' || status.lifecycleState === 'ROLLED_BACK') return { outcome: 'failed', reason: reason(`the operator rolled the upgrade back (${status.lifecycleState})`) };
  if (status.jobState === 'FAILED' || status.jobState === 'CANCELED') return { outcome: 'failed', reason: reason(`the job is ${status.jobState}`) };
  if (status.jobState === 'RUNNING' && (status.lifecycleState === 'DEPLOYED' || status.lifecycleState === 'STABLE') && status.jobId) return { outcome: 'running', jobId: status.jobId };
  // A bounded job (source.until) can end before a poll sees it running: that is a success, as on the REST path.
  if (status.jobState === 'FINISHED' && status.jobId) return { outcome: 'running', jobId: status.jobId };
  return { outcome: 'pending' };
}

/** Polls the job's object until the operator runs it; returns the operator's job id. Time-boxed. */
export async function waitUntilOperatorRuns(session: Session, id: string, timeoutMs: number): Promise<string> {
  const kubectl = session.kubectl();
  const deadline = Date.now() + timeoutMs;
  let last: OperatorStatus | null = null;
  while (Date.now() < deadline) {
    const line = await kubectl.field(id, STATUS_JSONPATH);
    if (line === null) throw new DeployError(`${id} was deleted while flinkfn waited for it`, { step: 'wait' });
    last = parseStatus(line);
    const verdict = judgeStatus(last);
    if (verdict.outcome === 'running') return verdict.jobId;
    if (verdict.outcome === 'failed') throw new DeployError(`${id}: ${verdict.reason}`, { step: 'wait', hint: `kubectl describe ${id.split('/')[0]} ${id.split('/')[2]} -n ${id.split('/')[1]} and the operator's log have details.` });
    await sleep(2_000);
  }
  throw new DeployError(`${id} did not run within ${Math.round(timeoutMs / 1000)} s (last: lifecycle ${last?.lifecycleState ?? 'none'}, job ${last?.jobState ?? 'none'}${last?.error ? `, ${last.error}` : ''})`, {
    step: 'wait',
    hint: 'Pods may wait for an image, resources or the artifact ConfigMap: kubectl get pods -n <namespace> -l flinkfn.dev/deployment=<name>.',
  });
}
