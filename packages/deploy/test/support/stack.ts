/**
 * The real local stack (Flink session cluster, Kafka, S3Proxy) for the lifecycle tests: started once for
 * all suites that use it, on free ports under a temporary root, and stopped after the last one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'uvu';
import { startStack, stackStatus, stopStack } from '@flinkfn/local-stack/stack.mjs';
import { loadTarget, LOCAL_BUCKET, type ResolvedTarget } from '../../src/index.js';
import { withStackEndpoints } from '../../src/local.js';

export interface TestStack {
  root: string;
  /** Environment that points the CLI at this stack. */
  env: Record<string, string>;
  target: ResolvedTarget;
}

// In-process deploys start the stack's controller unless told not to (see localController()).
process.env.FLINKFN_LOCAL_CONTROLLER ??= '0';

let users = 0;
let started: Promise<TestStack> | undefined;

/** Registers a suite as a user of the shared stack; returns a getter valid inside its tests. */
export function useStack(test: Test): () => TestStack {
  users++;
  let stack: TestStack | undefined;
  test.before(async () => {
    started ??= start();
    stack = await started;
  });
  test.after(async () => {
    users--;
    if (users === 0 && started) {
      const { root } = await started;
      await stopStack({ root });
      if (!process.env.FLINKFN_KEEP_TEST_STACK) await rm(root, { recursive: true, force: true });
    }
  });
  return () => {
    if (!stack) throw new Error('the stack is not started yet');
    return stack;
  };
}

async function start(): Promise<TestStack> {
  const root = await mkdtemp(path.join(tmpdir(), 'flinkfn-stack-'));
  const running = await startStack({ root, ports: { flinkRest: 0, kafka: 0, s3: 0 }, bucket: LOCAL_BUCKET });
  const port = (url: string): string => new URL(url).port;
  const env = {
    FLINKFN_LOCAL_ROOT: root,
    FLINKFN_LOCAL_FLINK_PORT: port(running.flink.restUrl),
    FLINKFN_LOCAL_KAFKA_PORT: running.kafka.bootstrapServers.split(':').at(-1) ?? '',
    FLINKFN_LOCAL_S3_PORT: port(running.s3.endpoint),
    FLINKFN_CHECKPOINT_INTERVAL_MS: '1000',
    // Commands are tested on their own here; the suites that test the controller start it themselves.
    FLINKFN_LOCAL_CONTROLLER: '0',
  };
  const target = withStackEndpoints(await loadTarget({ cwd: root, env }), running);
  return { root, env, target };
}

/** Pids of the stack's Flink processes (for tests that SIGKILL them). */
export async function flinkPids(root: string): Promise<{ jobManager: number; taskManager: number }> {
  const { services } = await stackStatus({ root });
  return { jobManager: services.jobManager.pid ?? 0, taskManager: services.taskManager.pid ?? 0 };
}

/**
 * `flinkfn local up` for the test stack: starts what is down, on the same ports; returns what it started.
 * Like a user, it runs `up` again when a start fails (seen once: a JobManager started right after the SIGKILL
 * of the previous one exited at once); every failed attempt is in the returned list.
 */
export async function healStack(stack: TestStack, attempts = 3): Promise<string[]> {
  const { target, root } = stack;
  const ports = { flinkRest: Number(new URL(target.flinkUrl).port), kafka: Number(target.kafka.brokers[0]!.split(':').at(-1)), s3: Number(new URL(target.s3.endpoint!).port) };
  const failures: string[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await startStack({ root, ports, bucket: LOCAL_BUCKET });
      return [...failures, ...result.started];
    } catch (error) {
      if (attempt >= attempts) throw error;
      failures.push(`(up failed: ${(error as Error).message.split('\n')[0]})`);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
  }
}

/** The sidecar processes a TaskManager runs (its child processes; none when it runs no job). */
export function sidecarPids(taskManagerPid: number): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(taskManagerPid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0);
}
