/**
 * The local target: the user's stack (~/.flinkfn/local unless configured) that `flinkfn local up` runs. Deploying to
 * it starts it when it is down, then fills the target's endpoints and credentials from what runs.
 */
import type { ResolvedTarget } from './config.js';
import { DeployError, describe } from './errors.js';
import { localController, localSidecarCommand } from './install.js';

export const LOCAL_BUCKET = 'flinkfn';

/** Starts the local stack if needed (idempotent) and returns the target with its live endpoints. */
export async function ensureLocalStack(target: ResolvedTarget, onProgress: (line: string) => void = () => {}): Promise<ResolvedTarget> {
  if (target.kind !== 'local' || target.localRoot === null) return target;
  const { startStack, checkPrerequisites } = await import('@flinkfn/local-stack/stack.mjs');
  try {
    await checkPrerequisites();
  } catch (error) {
    throw new DeployError(describe(error), { step: 'local-stack', hint: 'Or deploy to a remote target: see flinkfn deploy --help and docs/deploy.md.' });
  }
  let stack;
  try {
    stack = await startStack({ root: target.localRoot, ports: target.localPorts, bucket: LOCAL_BUCKET, controller: localController(), onProgress });
  } catch (error) {
    throw new DeployError(`the local stack did not start: ${describe(error)}`, {
      step: 'local-stack',
      hint: `Logs: flinkfn local logs. A port in use by another stack or program: set FLINKFN_LOCAL_FLINK_PORT, FLINKFN_LOCAL_KAFKA_PORT, FLINKFN_LOCAL_S3_PORT (or "ports" in flinkfn.config.json), or FLINKFN_LOCAL_ROOT to use a stack that runs elsewhere (this one: ${target.localRoot}).`,
      cause: error,
    });
  }
  return withStackEndpoints(target, stack);
}

/** The endpoints a running stack reports (startStack's result, or stackStatus's endpoints). */
interface StackEndpoints {
  flink: { restUrl: string };
  kafka: { bootstrapServers: string };
  s3: { endpoint: string; bucket: string; region: string; accessKey: string; secretKey: string };
}

export function withStackEndpoints(target: ResolvedTarget, stack: StackEndpoints): ResolvedTarget {
  return {
    ...target,
    flinkUrl: stack.flink.restUrl,
    kafka: { brokers: [stack.kafka.bootstrapServers], tls: false, sasl: null, caFile: null, taskManagerCaFile: null },
    s3: {
      bucket: stack.s3.bucket,
      region: stack.s3.region,
      endpoint: stack.s3.endpoint,
      forcePathStyle: true,
      prefix: '',
      credentials: { accessKeyId: stack.s3.accessKey, secretAccessKey: stack.s3.secretKey },
    },
    sidecarCommand: target.sidecarCommand || localSidecarCommand(),
  };
}
