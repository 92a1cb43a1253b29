/**
 * `flinkfn render`: the manifests a deploy to a Kubernetes target would apply, without a cluster, a bucket or a
 * record. It builds the function and checks its settings as deploy does (a missing value fails the same way), then
 * renders version `version` (default 1) of it. Two things are only known at deploy: the owner's uid (the rendered
 * objects have no `ownerReferences`) and the digest of the version's secrets object (shown as zeros).
 */
import { readFile } from 'node:fs/promises';
import type { ResolvedTarget } from '../config.js';
import { DeployError } from '../errors.js';
import { settingsForDeploy } from '../lifecycle/settings.js';
import { DEPLOYMENT_NAME, secretsKey, type DeploymentVersion } from '../registry.js';
import { kubernetesOf, renderFunction, renderSessionCluster, type KubernetesObject } from './render.js';

export interface RenderOptions {
  target: ResolvedTarget;
  root: string;
  entry?: string;
  name?: string;
  version?: number;
  parallelism?: number;
  maxRestarts?: number;
  settings?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

export interface RenderResult {
  objects: KubernetesObject[];
  /** What differs from what deploy applies, for the reader. */
  notes: string[];
}

export async function renderManifests(options: RenderOptions): Promise<RenderResult> {
  const k8s = kubernetesOf(options.target);
  const { build } = await import('@flinkfn/bundler');
  const built = await build({ root: options.root, ...(options.entry ? { entry: options.entry } : {}) });
  const name = options.name ?? built.manifest.name;
  if (!DEPLOYMENT_NAME.test(name)) throw new DeployError(`"${name}" cannot name a deployment`, { step: 'render', hint: 'Use lower-case letters, digits and dashes, starting with a letter (--name).' });
  const settings = settingsForDeploy(built.manifest, options.target, options.settings ?? {}, options.env ?? process.env);
  const number = options.version ?? 1;
  const secretNames = Object.keys(settings.secrets);
  const version: DeploymentVersion = {
    version: number, artifactId: built.id, jobId: '0'.repeat(32), state: 'starting', restoredFrom: null, savepoint: null,
    deployedAt: new Date(0).toISOString(), entry: built.manifest.bundle.entry,
    ...(options.maxRestarts !== undefined ? { maxRestarts: options.maxRestarts } : {}),
    ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}),
    ...(Object.keys(settings.plain).length > 0 ? { settings: settings.plain } : {}),
    ...(secretNames.length > 0 ? { secrets: { object: secretsKey(name, number), sha256: '0'.repeat(64), names: secretNames } } : {}),
  };
  const jarUri = k8s.runtimeJar || `s3://${options.target.s3.bucket}/${options.target.s3.prefix}runtime/<flinkfn-runtime-…jar, uploaded by deploy>`;
  const objects = renderFunction({ target: options.target, name, functionName: built.manifest.name, version, artifactBytes: await readFile(built.file), jarUri });
  const notes = [
    k8s.mode === 'application' ? `the ConfigMap gets an ownerReference to FlinkDeployment ${name} at deploy (its uid is the cluster's)` : `the FlinkSessionJob gets an ownerReference to FlinkDeployment ${k8s.sessionDeployment} at deploy`,
    ...(secretNames.length > 0 ? [`--secrets-sha256 is the digest of the secrets object deploy writes (${secretNames.join(', ')}); zeros here`] : []),
    ...(k8s.runtimeJar ? [] : ['deploy uploads the runtime jar to the bucket and puts its URI into jarURI']),
    ...(number === 1 ? [] : [`rendered as version ${number}`]),
  ];
  return { objects, notes };
}

/** The session FlinkDeployment for a session-mode target (applied once, by whoever runs the cluster). */
export function renderSessionManifests(target: ResolvedTarget): RenderResult {
  return { objects: [renderSessionCluster(target)], notes: ['apply it once; functions deployed in session mode run on it'] };
}
