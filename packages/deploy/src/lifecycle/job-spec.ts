/**
 * What a version's job is told, whoever submits it: the runtime job's arguments and its per-job Flink settings.
 * Pure (target, deployment name, version → strings), shared by the REST submit (versions.ts) and the Kubernetes
 * renderer (kubernetes/render.ts), so that both run the same job.
 */
import { jobKafkaProperties } from '../clients/kafka.js';
import type { ResolvedTarget } from '../config.js';
import { stateKeys, type DeploymentVersion } from '../registry.js';

/** An object key as a location Flink reads (`s3://bucket/prefix/key`), as `ObjectStore.uri` makes it. */
export type KeyUri = (key: string) => string;

export function bucketUri(target: ResolvedTarget): KeyUri {
  return (key) => `s3://${target.s3.bucket}/${target.s3.prefix}${key}`;
}

/** How the job reaches its sidecar: spawn one per subtask (process mode), or connect to one beside it (external). */
export type SidecarMode = { command: string } | { socket: string };

export function jobArguments(target: ResolvedTarget, uri: KeyUri, name: string, version: DeploymentVersion, artifact: string, sidecar: SidecarMode): string[] {
  return [
    '--artifact', artifact,
    '--artifact-id', version.artifactId,
    '--bootstrap-servers', target.kafka.brokers.join(','),
    '--deployment-id', name,
    ...('socket' in sidecar ? ['--sidecar-socket', sidecar.socket] : ['--sidecar-command', sidecar.command]),
    '--checkpoint-interval-ms', String(target.checkpointIntervalMs),
    ...(version.parallelism ? ['--parallelism', String(version.parallelism)] : []),
    // Plain settings may show in the job's arguments; secrets only by the location of their object and its digest.
    ...Object.entries(version.settings ?? {}).flatMap(([setting, value]) => ['--setting', `${setting}=${value}`]),
    ...(version.secrets ? ['--secrets', uri(version.secrets.object), '--secrets-sha256', version.secrets.sha256] : []),
    ...Object.entries(jobKafkaProperties(target)).flatMap(([key, value]) => ['--kafka-property', `${key}=${value}`]),
  ];
}

/**
 * Per-job Flink settings: where state goes, and that checkpoints are kept when the job is cancelled or fails,
 * so that a job the cluster loses can be resumed from its latest one (teardown deletes them).
 */
export function jobConfiguration(uri: KeyUri, name: string, version: DeploymentVersion): Record<string, string> {
  const { checkpoints, savepoints } = stateKeys(name);
  return {
    'pipeline.name': `flinkfn: ${name} v${version.version}`,
    'execution.checkpointing.dir': uri(checkpoints),
    'execution.checkpointing.savepoint-dir': uri(savepoints),
    'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION',
    ...(version.maxRestarts === undefined || version.maxRestarts === null
      ? {}
      : version.maxRestarts === 0
        ? { 'restart-strategy.type': 'none' }
        : { 'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.attempts': String(version.maxRestarts), 'restart-strategy.fixed-delay.delay': '1 s' }),
  };
}
