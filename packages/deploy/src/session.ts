/**
 * A connection to a target's three services, checked up front so that an unreachable cluster or a
 * missing bucket is reported before anything is created.
 */
import { FlinkClient, FlinkRestError } from './clients/flink.js';
import { KafkaAdmin } from './clients/kafka.js';
import { ObjectStore } from './clients/object-store.js';
import type { ResolvedTarget } from './config.js';
import { DeployError, describe } from './errors.js';
import { Leases } from './leases.js';
import { Kubectl } from './kubernetes/kubectl.js';
import { ensureLocalStack, withStackEndpoints } from './local.js';

export interface Session {
  target: ResolvedTarget;
  flink: FlinkClient;
  store: ObjectStore;
  /** Attach/detach of shared topics and artifacts (leases.ts), on this target's bucket and Kafka. */
  leases: Leases;
  kafka(): Promise<KafkaAdmin>;
  /** kubectl for a Kubernetes target; throws a DeployError saying what is missing when there is no kubectl. */
  kubectl(): Kubectl;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Start the local stack when it is down (deploy does; inspection commands do not). */
  startLocal: boolean;
  onProgress?: (line: string) => void;
}

export async function openSession(resolved: ResolvedTarget, options: OpenOptions): Promise<Session> {
  const target = options.startLocal ? await ensureLocalStack(resolved, options.onProgress) : await runningLocalStack(resolved);
  const flink = new FlinkClient(target.flinkUrl);
  const store = new ObjectStore(target.s3);
  const remedy = target.kind === 'local' ? 'Start the local stack with flinkfn local up.' : `Check the "${target.name}" target (${target.source}).`;
  let kubectl: Kubectl | undefined;
  const findKubectl = (): Kubectl => {
    if (target.kind !== 'kubernetes') throw new DeployError(`the target "${target.name}" is not a Kubernetes target`, { hint: 'Kubernetes objects belong to a target of "kind": "kubernetes".' });
    kubectl ??= Kubectl.locate();
    return kubectl;
  };
  if (target.kind === 'kubernetes') {
    // The operator runs the jobs: reach the cluster through kubectl, not Flink's REST API.
    findKubectl();
  }
  try {
    if (target.kind !== 'kubernetes' || target.flinkUrl !== '') await flink.overview();
  } catch (error) {
    store.close();
    const status = error instanceof FlinkRestError ? error.status : 0;
    throw new DeployError(status === 0 ? `cannot reach Flink at ${target.flinkUrl}` : `Flink at ${target.flinkUrl} answered with an error: ${describe(error)}`, {
      step: 'connect',
      hint: remedy,
      cause: error,
    });
  }
  try {
    await store.checkBucket();
  } catch (error) {
    store.close();
    throw new DeployError(`cannot use the S3 bucket "${target.s3.bucket}"${target.s3.endpoint ? ` at ${target.s3.endpoint}` : ''}: ${describe(error)}`, {
      step: 'connect',
      hint: `${remedy} The bucket must exist and the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) must allow reading and writing it.`,
      cause: error,
    });
  }
  let admin: KafkaAdmin | undefined;
  const kafka = async (): Promise<KafkaAdmin> => {
    if (!admin) {
      admin = await KafkaAdmin.connect(target);
    }
    return admin;
  };
  const leases = new Leases(store, {
    exists: async (kind, id) => (kind === 'kafka-topic' ? (await kafka()).topicExists(id) : store.exists(id)),
    remove: async (kind, id) => {
      if (kind === 'kafka-topic') await (await kafka()).deleteTopic(id);
      else await store.delete(id);
    },
  });
  return {
    target,
    flink,
    store,
    leases,
    kafka,
    kubectl: findKubectl,
    async close() {
      store.close();
      await admin?.disconnect();
    },
  };
}

/** For commands that only look or clean up: use the local stack if it runs, say how to start it if not. */
async function runningLocalStack(target: ResolvedTarget): Promise<ResolvedTarget> {
  if (target.kind !== 'local' || target.localRoot === null) return target;
  const { stackStatus } = await import('@flinkfn/local-stack/stack.mjs');
  const status = await stackStatus({ root: target.localRoot });
  if (!status.up || !status.endpoints) {
    throw new DeployError(`the local stack in ${target.localRoot} is not running`, { step: 'connect', hint: 'Start it with flinkfn local up (flinkfn deploy starts it by itself).' });
  }
  return withStackEndpoints(target, status.endpoints);
}
