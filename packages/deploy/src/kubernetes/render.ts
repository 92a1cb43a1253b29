/**
 * The Flink Kubernetes Operator's custom resources for a function: pure (target + deployment version → objects),
 * no cluster needed, so `flinkfn render` and `deploy --dry-run` print exactly what deploy applies.
 *
 * - **application mode**: one `FlinkDeployment` per function. Its TaskManager pod runs the Node sidecar as a
 *   Kubernetes native sidecar (an init container with `restartPolicy: Always`: started before the TaskManager,
 *   restarted by the kubelet when it crashes, stopped after it). The runtime job connects in external mode
 *   (`--sidecar-socket`) over a Unix socket in an `emptyDir` shared by the two containers; the sidecar makes the
 *   socket owner-only (0600), and both containers run as the same user, Flink's. The sidecar reads the artifact
 *   from a `ConfigMap` (content-addressed name) that the FlinkDeployment owns (`ownerReferences`), so Kubernetes'
 *   garbage collector deletes it with the FlinkDeployment.
 * - **session mode**: one `FlinkSessionJob` per function on a shared session `FlinkDeployment`, owned by it. A
 *   session job has no pod template, so no container can be added per function: the session cluster's
 *   TaskManagers have Node and the sidecar in their image, and each subtask starts its own sidecar process for
 *   its function's artifact (process mode, as on a remote target; one sidecar per subtask, so several functions
 *   share the cluster without sharing a sidecar). `renderSessionCluster` renders that session FlinkDeployment.
 *
 * Checkpoints and savepoints go under the deployment's prefix in the target's bucket (the same keys as every
 * other target), and the job's arguments and per-job settings are the REST submit's (lifecycle/job-spec.ts).
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { ResolvedKubernetes, ResolvedTarget } from '../config.js';
import { DeployError } from '../errors.js';
import { RUNTIME_ENTRY_CLASS } from '../install.js';
import { stateKeys, type DeploymentVersion } from '../registry.js';
import { bucketUri, jobArguments, jobConfiguration, type KeyUri } from '../lifecycle/job-spec.js';

export const FLINK_API_VERSION = 'flink.apache.org/v1beta1';
/** Where the sidecar container and the TaskManager meet: an emptyDir mounted in both. */
export const SIDECAR_SOCKET_DIR = '/run/flinkfn';
export const SIDECAR_SOCKET = `${SIDECAR_SOCKET_DIR}/sidecar.sock`;
/** Where the artifact ConfigMap is mounted in the sidecar container. */
export const ARTIFACT_DIR = '/opt/flinkfn/artifact';
/** The official Flink image's user (flink, uid and gid 9999): the TaskManager and the sidecar run as it. */
export const FLINK_UID = 9999;
/** A ConfigMap holds at most 1 MiB (etcd's object limit), name and metadata included. */
export const CONFIGMAP_ARTIFACT_LIMIT = 1_000_000;
/**
 * The operator names the JobManager's Service `<name>-rest`, and a Service name is a DNS-1035 label of at most 63
 * characters; 45 leaves room for the other names it derives.
 */
export const MAX_OBJECT_NAME = 45;

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A Kubernetes object as flinkfn renders it: what `kubectl apply` reads. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

/** What to render: the deployment's version as the record has it, and where its artifact and the runtime jar are. */
export interface FunctionRenderInput {
  target: ResolvedTarget;
  /** Deployment name (the record's). */
  name: string;
  functionName: string;
  version: DeploymentVersion;
  /** The artifact's bytes: application mode puts them into the sidecar's ConfigMap. */
  artifactBytes: Uint8Array;
  /** The runtime jar's URI (`local://` in the image, or one the operator can download). */
  jarUri: string;
  /** State to start from (first deploy after a destroy with --keep-state, or a rollback). */
  initialSavepoint?: string | null;
  allowNonRestoredState?: boolean;
  /**
   * The owner of the objects that belong to another, once it exists: application mode, the FlinkDeployment (owns
   * the artifact ConfigMap); session mode, the session FlinkDeployment (owns the session job). Without it (a dry
   * run) the objects are rendered without `ownerReferences`.
   */
  ownerUid?: string;
}

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  deployment: 'flinkfn.dev/deployment',
  function: 'flinkfn.dev/function',
  version: 'flinkfn.dev/version',
} as const;

/** The record's id of an object: `<kind>/<namespace>/<name>` (kubectl reads `<kind>/<name>` with `-n`). */
export function objectId(object: Pick<KubernetesObject, 'kind' | 'metadata'>): string {
  return `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
}

export function parseObjectId(id: string): { kind: string; namespace: string; name: string } {
  const [kind, namespace, name, ...rest] = id.split('/');
  if (!kind || !namespace || !name || rest.length > 0) throw new Error(`"${id}" is not a Kubernetes object id (<kind>/<namespace>/<name>)`);
  return { kind, namespace, name };
}

export function kubernetesOf(target: ResolvedTarget): ResolvedKubernetes {
  if (target.kubernetes === null) {
    throw new DeployError(`the target "${target.name}" is a ${target.kind} target, not a Kubernetes one`, { hint: `Render manifests for a target of "kind": "kubernetes" (${target.source}); see docs/kubernetes.md.` });
  }
  return target.kubernetes;
}

/** The objects of one version of a function, in the order to apply them (owners first). */
export function renderFunction(input: FunctionRenderInput): KubernetesObject[] {
  const k8s = kubernetesOf(input.target);
  if (input.name.length > MAX_OBJECT_NAME) {
    throw new DeployError(`"${input.name}" is too long to name a FlinkDeployment (${input.name.length} characters; at most ${MAX_OBJECT_NAME})`, {
      step: 'render',
      hint: `The operator derives Service names from it, which Kubernetes limits to 63 characters. Deploy with a shorter --name.`,
    });
  }
  if (!input.jarUri) {
    throw new DeployError('no runtime jar URI for the session job', { step: 'render', hint: 'Set "runtimeJar" in the target, or let deploy upload the jar to the bucket.' });
  }
  return k8s.mode === 'application' ? renderApplication(input, k8s) : [renderSessionJob(input, k8s)];
}

function labels(input: Pick<FunctionRenderInput, 'name' | 'functionName' | 'version'>): Record<string, string> {
  return {
    [LABELS.managedBy]: 'flinkfn',
    [LABELS.deployment]: input.name,
    [LABELS.function]: input.functionName,
    [LABELS.version]: String(input.version.version),
  };
}

function uriOf(input: FunctionRenderInput): KeyUri {
  return bucketUri(input.target);
}

/** Flink settings of the function's job: the target's, then state locations, checkpointing, restarts, upgrades. */
function flinkConfiguration(input: FunctionRenderInput, k8s: ResolvedKubernetes, cluster: Record<string, string>): Record<string, string> {
  const uri = uriOf(input);
  const { checkpoints, savepoints } = stateKeys(input.name);
  return {
    ...k8s.flinkConfiguration,
    ...cluster,
    ...jobConfiguration(uri, input.name, input.version),
    // The operator's own keys for the same places (it reads them for upgrades and last-state recovery).
    'state.checkpoints.dir': uri(checkpoints),
    'state.savepoints.dir': uri(savepoints),
    'execution.checkpointing.interval': `${input.target.checkpointIntervalMs} ms`,
    // last-state upgrades take the latest checkpoint from the HA metadata: Kubernetes HA, its files under the
    // prefix. HA is the cluster's: a session job's is the session cluster's (renderSessionCluster).
    ...(k8s.upgradeMode === 'last-state' && k8s.mode === 'application' ? { 'high-availability.type': 'kubernetes', 'high-availability.storageDir': uri(haKey(input.name)) } : {}),
    // Without --max-restarts: Flink 2's default with checkpointing on, written out so the manifest says it.
    ...(input.version.maxRestarts === undefined || input.version.maxRestarts === null ? { 'restart-strategy.type': 'exponential-delay' } : {}),
  };
}

function jobSpec(input: FunctionRenderInput, k8s: ResolvedKubernetes, args: string[]): Record<string, unknown> {
  return {
    jarURI: input.jarUri,
    entryClass: RUNTIME_ENTRY_CLASS,
    args,
    ...(input.version.parallelism ? { parallelism: input.version.parallelism } : {}),
    upgradeMode: k8s.upgradeMode,
    state: 'running',
    ...(input.initialSavepoint ? { initialSavepointPath: input.initialSavepoint } : {}),
    allowNonRestoredState: input.allowNonRestoredState ?? false,
  };
}

/** Where Kubernetes HA keeps its files for a last-state deployment (a prefix the record lists, deleted at teardown). */
export function haKey(name: string): string {
  return `deployments/${name}/ha/`;
}

/** The artifact ConfigMap's key and name: content-addressed, so an upgrade adds one and never changes one. */
export function artifactConfigMapName(name: string, artifactId: string): string {
  return `${name}-artifact-${artifactId.slice(0, 12)}`;
}

function renderApplication(input: FunctionRenderInput, k8s: ResolvedKubernetes): KubernetesObject[] {
  const fileName = `${input.version.artifactId}.flinkfn`;
  const digest = createHash('sha256').update(input.artifactBytes).digest('hex');
  if (digest !== input.version.artifactId) {
    throw new DeployError(`the artifact's bytes do not match its id ${input.version.artifactId}`, { step: 'render', hint: 'Build again (flinkfn build) and deploy the new artifact.' });
  }
  const encoded = Buffer.from(input.artifactBytes).toString('base64');
  if (encoded.length > CONFIGMAP_ARTIFACT_LIMIT) {
    throw new DeployError(`the artifact is too big for a ConfigMap (${encoded.length} bytes in base64, at most ${CONFIGMAP_ARTIFACT_LIMIT})`, {
      step: 'render',
      hint: 'Use mode "session" (the TaskManagers read the artifact from the bucket), or make the bundle smaller (fewer dependencies; the source map is part of it).',
    });
  }
  const uri = uriOf(input);
  const artifactFile = `${ARTIFACT_DIR}/${fileName}`;
  const args = jobArguments(input.target, uri, input.name, input.version, uri(`artifacts/${fileName}`), { socket: SIDECAR_SOCKET });
  const meta = labels(input);
  const { taskManager, sidecar } = k8s.resources;
  const sidecarCommand = input.target.sidecarCommand.trim().split(/\s+/);

  const deployment: KubernetesObject = {
    apiVersion: FLINK_API_VERSION,
    kind: 'FlinkDeployment',
    metadata: { name: input.name, namespace: k8s.namespace, labels: meta },
    spec: {
      ...clusterBasics(k8s),
      flinkConfiguration: flinkConfiguration(input, k8s, { 'taskmanager.numberOfTaskSlots': String(taskManager.slots) }),
      // Both pods: the JobManager reads the artifact from the bucket when the job starts.
      ...(k8s.envSecret ? { podTemplate: { spec: { containers: [{ name: 'flink-main-container', ...envFrom(k8s) }] } } } : {}),
      taskManager: {
        replicas: taskManager.replicas,
        resource: { cpu: taskManager.cpu, memory: taskManager.memory },
        podTemplate: {
          metadata: { labels: meta },
          spec: {
            // Both containers as Flink's user: the socket is owner-only (0600), and only that user can connect.
            securityContext: { runAsUser: FLINK_UID, runAsGroup: FLINK_UID, fsGroup: FLINK_UID, runAsNonRoot: true },
            initContainers: [
              {
                name: 'flinkfn-sidecar',
                image: k8s.image,
                ...(k8s.imagePullPolicy ? { imagePullPolicy: k8s.imagePullPolicy } : {}),
                // A native sidecar: runs beside the TaskManager for the pod's life; the kubelet restarts it when it exits.
                restartPolicy: 'Always',
                command: [...sidecarCommand, '--artifact', artifactFile, '--socket', SIDECAR_SOCKET, '--external'],
                resources: { requests: { cpu: sidecar.cpu, memory: sidecar.memory }, limits: { memory: sidecar.memory } },
                // The TaskManager container starts once this passes: the sidecar listens.
                startupProbe: { exec: { command: ['test', '-S', SIDECAR_SOCKET] }, periodSeconds: 1, failureThreshold: 120 },
                securityContext: { allowPrivilegeEscalation: false },
                volumeMounts: [
                  { name: 'flinkfn-socket', mountPath: SIDECAR_SOCKET_DIR },
                  { name: 'flinkfn-artifact', mountPath: ARTIFACT_DIR, readOnly: true },
                ],
              },
            ],
            containers: [
              {
                // The operator merges this into the TaskManager container (its fixed name).
                name: 'flink-main-container',
                ...envFrom(k8s),
                volumeMounts: [{ name: 'flinkfn-socket', mountPath: SIDECAR_SOCKET_DIR }],
              },
            ],
            volumes: [
              { name: 'flinkfn-socket', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
              { name: 'flinkfn-artifact', configMap: { name: artifactConfigMapName(input.name, input.version.artifactId), defaultMode: 0o440, items: [{ key: fileName, path: fileName }] } },
            ],
          },
        },
      },
      job: jobSpec(input, k8s, args),
    },
  };

  const configMap: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: artifactConfigMapName(input.name, input.version.artifactId),
      namespace: k8s.namespace,
      labels: meta,
      ...(input.ownerUid ? { ownerReferences: [owner('FlinkDeployment', input.name, input.ownerUid)] } : {}),
    },
    binaryData: { [fileName]: encoded },
    immutable: true,
  };
  return [deployment, configMap];
}

function renderSessionJob(input: FunctionRenderInput, k8s: ResolvedKubernetes): KubernetesObject {
  const session = k8s.sessionDeployment!;
  const uri = uriOf(input);
  const args = jobArguments(input.target, uri, input.name, input.version, uri(`artifacts/${input.version.artifactId}.flinkfn`), { command: input.target.sidecarCommand });
  return {
    apiVersion: FLINK_API_VERSION,
    kind: 'FlinkSessionJob',
    metadata: {
      name: input.name,
      namespace: k8s.namespace,
      labels: labels(input),
      // Deleting the session cluster deletes its jobs' objects too.
      ...(input.ownerUid ? { ownerReferences: [owner('FlinkDeployment', session, input.ownerUid)] } : {}),
    },
    spec: {
      deploymentName: session,
      flinkConfiguration: flinkConfiguration(input, k8s, {}),
      job: jobSpec(input, k8s, args),
    },
  };
}

/** What every FlinkDeployment flinkfn renders has: the image, Flink's version, the service account, the JobManager. */
function clusterBasics(k8s: ResolvedKubernetes): Record<string, unknown> {
  const { jobManager } = k8s.resources;
  return {
    image: k8s.image,
    ...(k8s.imagePullPolicy ? { imagePullPolicy: k8s.imagePullPolicy } : {}),
    flinkVersion: k8s.flinkVersion,
    serviceAccount: k8s.serviceAccount,
    mode: 'native',
    jobManager: { replicas: 1, resource: { cpu: jobManager.cpu, memory: jobManager.memory } },
  };
}

/** The target's `envSecret` as the Flink containers' environment: Kafka SASL credentials, S3 keys without a role. */
function envFrom(k8s: ResolvedKubernetes): { envFrom?: Array<{ secretRef: { name: string } }> } {
  return k8s.envSecret ? { envFrom: [{ secretRef: { name: k8s.envSecret } }] } : {};
}

function owner(kind: string, name: string, uid: string): OwnerReference {
  // Not a controller reference: the owner's operator does not manage these; blockOwnerDeletion keeps a foreground
  // delete of the owner waiting until they are gone.
  return { apiVersion: FLINK_API_VERSION, kind, name, uid, blockOwnerDeletion: true };
}

/**
 * The session FlinkDeployment that session-mode functions run on (applied once by whoever runs the cluster; not
 * part of any deployment record). Its TaskManagers start one sidecar process per subtask from the image's Node.
 */
export function renderSessionCluster(target: ResolvedTarget): KubernetesObject {
  const k8s = kubernetesOf(target);
  if (k8s.mode !== 'session' || k8s.sessionDeployment === null) {
    throw new DeployError(`the target "${target.name}" is in mode "${k8s.mode}"; a session cluster is for mode "session"`, { hint: 'Set "mode": "session" and "sessionDeployment" in the target.' });
  }
  const { taskManager } = k8s.resources;
  return {
    apiVersion: FLINK_API_VERSION,
    kind: 'FlinkDeployment',
    metadata: { name: k8s.sessionDeployment, namespace: k8s.namespace, labels: { [LABELS.managedBy]: 'flinkfn' } },
    spec: {
      ...clusterBasics(k8s),
      flinkConfiguration: {
        ...k8s.flinkConfiguration,
        'taskmanager.numberOfTaskSlots': String(taskManager.slots),
        ...(k8s.upgradeMode === 'last-state'
          ? { 'high-availability.type': 'kubernetes', 'high-availability.storageDir': bucketUri(target)(`session-clusters/${k8s.sessionDeployment}/ha/`) }
          : {}),
      },
      taskManager: {
        replicas: taskManager.replicas,
        resource: { cpu: taskManager.cpu, memory: taskManager.memory },
        podTemplate: {
          spec: {
            containers: [{ name: 'flink-main-container', env: [{ name: 'FLINKFN_SIDECAR_COMMAND', value: target.sidecarCommand }], ...envFrom(k8s) }],
          },
        },
      },
    },
  };
}

/** Objects as one YAML stream (`---` between documents), as `kubectl apply -f -` reads it. */
export function toYaml(objects: KubernetesObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
