/**
 * The parts of a Kubernetes deployment that can run without a Kubernetes API server, for real, on the local stack:
 *
 * - the rendered sidecar container's command line, run on the host (its paths mapped into a scratch folder:
 *   the ConfigMap's artifact file, the emptyDir's socket), serves the runtime job on the local Flink session
 *   cluster, which runs with the rendered job arguments (`--sidecar-socket`, external mode) and the rendered Flink
 *   configuration; two subtasks share the one sidecar as on a TaskManager with two slots; the sidecar SIGKILLed and
 *   started again with the same command line (what the kubelet does with a native sidecar) serves the restored job,
 *   and every result is still written once;
 * - the rendered FlinkSessionJob's arguments and configuration run on the local Flink with a sidecar process per
 *   subtask, as on the session cluster;
 * - a deploy through a kubernetes target whose kubectl reaches no cluster stops at connect with kubectl's reason and
 *   writes nothing;
 * - the deployment record of Kubernetes objects: intended with their owner before kubectl is asked, torn down
 *   owners first after jobs and before topics, and not marked deleted when kubectl cannot delete them.
 *
 * Not here (needs a cluster): the operator acting on the objects, the kubelet restarting the native sidecar, owner
 * references collected by Kubernetes' garbage collector.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { build, type BuildResult } from '@flinkfn/bundler';
import { KUBERNETES_DEFAULTS, type ResolvedTarget } from '../src/config.js';
import { localSidecarCommand, RUNTIME_ENTRY_CLASS } from '../src/install.js';
import { waitUntilRunning, cancelJob } from '../src/lifecycle/jobs.js';
import { planTeardown, teardown } from '../src/lifecycle/teardown.js';
import { clusterJarId } from '../src/lifecycle/versions.js';
import { applyVersion } from '../src/kubernetes/apply.js';
import { ARTIFACT_DIR, renderFunction, SIDECAR_SOCKET_DIR, type KubernetesObject } from '../src/kubernetes/render.js';
import { artifactKey, Deployment, registryKey, type DeploymentVersion } from '../src/registry.js';
import { openSession, type Session } from '../src/session.js';
import { CLI, consume, produce, topicsOf } from './support/inspect.js';
import { writeRelay } from './support/functions.js';
import { useStack } from './support/stack.js';

const test = suite('kubernetes manifests on the host, with the local stack');
const stack = useStack(test);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCRATCH = path.join(HERE, '..', '.tmp-test', 'kubernetes-on-host');
/** Generous: a loaded CI machine is several times slower; nothing is asserted about time. */
const DEADLINE_MS = 300_000;

let built: BuildResult;
test.before(async () => {
  rmSync(SCRATCH, { recursive: true, force: true });
  mkdirSync(SCRATCH, { recursive: true });
  copyFileSync(path.join(HERE, 'fixtures', 'console-logger.ts'), path.join(SCRATCH, 'console-logger.ts'));
  built = await build({ root: SCRATCH, entry: 'console-logger.ts' });
});
test.after(() => rmSync(SCRATCH, { recursive: true, force: true }));

/** The local stack as a Kubernetes target's renderer sees it: its Kafka, bucket and checkpoint interval. */
function kubernetesTarget(base: ResolvedTarget): ResolvedTarget {
  const d = KUBERNETES_DEFAULTS;
  return {
    ...base,
    name: 'k8s',
    kind: 'kubernetes',
    sidecarCommand: d.sidecarCommand,
    kubernetes: {
      namespace: 'flink', mode: 'application', sessionDeployment: null, image: 'flinkfn-flink:test', imagePullPolicy: null, serviceAccount: d.serviceAccount,
      flinkVersion: d.flinkVersion, upgradeMode: d.upgradeMode, runtimeJar: d.runtimeJar,
      resources: { jobManager: { ...d.jobManager }, taskManager: { ...d.taskManager, slots: 2 }, sidecar: { ...d.sidecar } },
      flinkConfiguration: {}, envSecret: null,
    },
  };
}

function versionOf(result: BuildResult, jobId: string): DeploymentVersion {
  return { version: 1, artifactId: result.id, jobId, state: 'starting', restoredFrom: null, savepoint: null, deployedAt: new Date().toISOString(), entry: 'console-logger.ts' };
}

interface PodView {
  sidecar: { command: string[] };
  job: { entryClass: string; args: string[] };
  flinkConfiguration: Record<string, string>;
}

function podView(deployment: KubernetesObject): PodView {
  const spec = deployment.spec as { flinkConfiguration: Record<string, string>; job: PodView['job']; taskManager: { podTemplate: { spec: { initContainers: Array<{ command: string[] }> } } } };
  return { sidecar: spec.taskManager.podTemplate.spec.initContainers[0]!, job: spec.job, flinkConfiguration: spec.flinkConfiguration };
}

/** A path inside the pod as the host folder that stands in for its volume. */
function onHost(value: string, mounts: Record<string, string>): string {
  for (const [inPod, host] of Object.entries(mounts)) if (value === inPod || value.startsWith(`${inPod}/`)) return host + value.slice(inPod.length);
  return value;
}

/** What the cluster would hold for a function: its artifact in the bucket (the job reads its manifest there) and its topics. */
async function stage(session: Session, result: BuildResult): Promise<void> {
  const source = result.manifest.source.topic;
  await session.store.putFile(artifactKey(result.id), result.file);
  await (await session.kafka()).ensureTopics(topicsOf(result.manifest).map((topic) => ({ topic, partitions: topic === source ? 2 : 1 })));
}

/** Cancels the job and removes what `stage` and the job left: topics, artifact, state. */
async function unstage(session: Session, result: BuildResult, jobId: string, name: string): Promise<void> {
  await cancelJob(session.flink, jobId).catch(() => undefined);
  const admin = await session.kafka();
  for (const topic of topicsOf(result.manifest)) await admin.deleteTopic(topic).catch(() => undefined);
  await session.store.delete(artifactKey(result.id)).catch(() => undefined);
  await session.store.deletePrefix(`deployments/${name}/`).catch(() => undefined);
}

function startSidecar(command: string[]): { child: ChildProcessWithoutNullStreams; ready: Promise<string>; stderr: () => string } {
  const [program, ...args] = command;
  const child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = /^READY (.+)$/m.exec(out);
      if (line) resolve(line[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the sidecar exited with ${code} before READY: ${stderr}`)));
  });
  return { child, ready, stderr: () => stderr };
}

test('the sidecar container\'s command line, run on the host, serves the runtime job started with the rendered arguments on the local Flink, also after it is killed and started again', async () => {
  const target = kubernetesTarget(stack().target);
  const name = `k8s-host-${randomBytes(3).toString('hex')}`;
  const jobId = randomBytes(16).toString('hex');
  const [deployment, configMap] = renderFunction({ target, name, functionName: built.manifest.name, version: versionOf(built, jobId), artifactBytes: readFileSync(built.file), jarUri: KUBERNETES_DEFAULTS.runtimeJar });
  const pod = podView(deployment!);

  // The pod's volumes as host folders: the ConfigMap's file, and the emptyDir for the socket.
  const volumes = mkdtempSync(path.join(tmpdir(), 'flinkfn-k8s-pod-'));
  const mounts = { [ARTIFACT_DIR]: path.join(volumes, 'artifact'), [SIDECAR_SOCKET_DIR]: path.join(volumes, 'run') };
  mkdirSync(mounts[ARTIFACT_DIR]!);
  mkdirSync(mounts[SIDECAR_SOCKET_DIR]!);
  for (const [file, data] of Object.entries(configMap!.binaryData ?? {})) writeFileSync(path.join(mounts[ARTIFACT_DIR]!, file), Buffer.from(data, 'base64'));
  // The image's `node /opt/flinkfn/…/flinkfn-sidecar.js` is this checkout's sidecar; the rest of the line unchanged.
  const imageCommand = target.sidecarCommand.split(/\s+/);
  assert.equal(pod.sidecar.command.slice(0, imageCommand.length), imageCommand);
  const command = [...localSidecarCommand().split(/\s+/), ...pod.sidecar.command.slice(imageCommand.length).map((arg) => onHost(arg, mounts))];
  const sidecar = startSidecar(command);
  let restarted: ReturnType<typeof startSidecar> | undefined;
  const session = await openSession(stack().target, { startLocal: false });
  const manifest = built.manifest;
  try {
    const socket = await sidecar.ready;
    assert.is(socket, path.join(mounts[SIDECAR_SOCKET_DIR]!, 'sidecar.sock'));
    assert.is(statSync(socket).mode & 0o777, 0o600, 'the socket in the shared volume is owner-only');

    await stage(session, built);
    const jar = await clusterJarId(session);
    assert.is(pod.job.entryClass, RUNTIME_ENTRY_CLASS);
    const args = pod.job.args.map((arg) => onHost(arg, mounts));
    assert.ok(args.includes('--sidecar-socket') && !args.includes('--sidecar-command'), 'external mode');
    await session.flink.runJar(jar.id, { entryClass: pod.job.entryClass, programArgsList: args, jobId, flinkConfiguration: pod.flinkConfiguration });
    await waitUntilRunning(session.flink, jobId, DEADLINE_MS);

    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    await produce(stack().target, manifest.source.topic, ids.map((id) => JSON.stringify({ id })), (i) => i % 2);
    const results = await consume(stack().target, manifest.sinks[0]!.topic, ids.length, DEADLINE_MS);
    assert.equal(results.map((r) => (JSON.parse(r) as { id: number }).id).sort((a, b) => a - b), ids);
    // The handler's console.log lines came out of this sidecar: it, not one the job started, ran the handler.
    const logged = new Set([...sidecar.stderr().matchAll(/flinkfn-handler-log \S+ event (\d+)/g)].map((m) => Number(m[1])));
    assert.equal([...logged].sort((a, b) => a - b), ids);

    // A crashed sidecar container, restarted by the kubelet (restartPolicy Always) with the same command line and
    // volumes: the job fails its tasks, Flink restores from the last checkpoint and reconnects; the exactly-once sinks
    // keep every result once.
    sidecar.child.kill('SIGKILL');
    await new Promise((resolve) => sidecar.child.once('exit', resolve));
    restarted = startSidecar(command);
    assert.is(await restarted.ready, socket);
    const more = Array.from({ length: 40 }, (_, i) => i + 41);
    await produce(stack().target, manifest.source.topic, more.map((id) => JSON.stringify({ id })), (i) => i % 2);
    const all = await consume(stack().target, manifest.sinks[0]!.topic, ids.length + more.length, DEADLINE_MS);
    assert.equal(all.map((r) => (JSON.parse(r) as { id: number }).id).sort((a, b) => a - b), [...ids, ...more]);
    assert.match(restarted.stderr(), /flinkfn-handler-log \S+ event 80\b/, 'the restarted sidecar served the job');
  } finally {
    await unstage(session, built, jobId, name);
    for (const running of [sidecar, restarted]) {
      if (!running || running.child.exitCode !== null || running.child.signalCode !== null) continue;
      running.child.kill('SIGTERM');
      await new Promise((resolve) => running.child.once('exit', resolve));
    }
    await session.close();
    rmSync(volumes, { recursive: true, force: true });
  }
});

test('the rendered FlinkSessionJob\'s arguments and Flink configuration run the function on the local Flink, each subtask starting its own sidecar (what the session cluster does)', async () => {
  const relay = await writeRelay({ name: 'k8s-session-relay', source: 'k8s-session-in', sink: 'k8s-session-out', createSource: 2 });
  const relayBuild = await build({ root: relay.root, entry: relay.entry });
  const base = kubernetesTarget(stack().target);
  const target: ResolvedTarget = { ...base, kubernetes: { ...base.kubernetes!, mode: 'session', sessionDeployment: 'flinkfn-session', runtimeJar: 's3://flinkfn/runtime/flinkfn-runtime.jar' } };
  const jobId = randomBytes(16).toString('hex');
  const name = `k8s-session-${randomBytes(3).toString('hex')}`;
  const [sessionJob] = renderFunction({ target, name, functionName: relayBuild.manifest.name, version: { ...versionOf(relayBuild, jobId), parallelism: 2 }, artifactBytes: readFileSync(relayBuild.file), jarUri: target.kubernetes!.runtimeJar });
  assert.is(sessionJob!.kind, 'FlinkSessionJob');
  const spec = sessionJob!.spec as { flinkConfiguration: Record<string, string>; job: { entryClass: string; args: string[] } };
  // The image's sidecar command is this checkout's sidecar on the host.
  const at = spec.job.args.indexOf('--sidecar-command');
  assert.is(spec.job.args[at + 1], KUBERNETES_DEFAULTS.sidecarCommand);
  const args = spec.job.args.map((arg, i) => (i === at + 1 ? localSidecarCommand() : arg));
  const session = await openSession(stack().target, { startLocal: false });
  const manifest = relayBuild.manifest;
  try {
    await stage(session, relayBuild);
    const jar = await clusterJarId(session);
    await session.flink.runJar(jar.id, { entryClass: spec.job.entryClass, programArgsList: args, jobId, flinkConfiguration: spec.flinkConfiguration });
    await waitUntilRunning(session.flink, jobId, DEADLINE_MS);
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    await produce(stack().target, manifest.source.topic, ids.map((id) => JSON.stringify({ id })), (i) => i % 2);
    const results = await consume(stack().target, manifest.sinks[0]!.topic, ids.length, DEADLINE_MS);
    assert.equal(results.map((r) => JSON.parse(r) as { id: number; by: string }).sort((a, b) => a.id - b.id), ids.map((id) => ({ id, by: 'k8s-session-relay' })));
  } finally {
    await unstage(session, relayBuild, jobId, name);
    await session.close();
  }
});

/** A config file naming a kubernetes target on the local stack's Kafka and S3 (its fixed local credentials). */
function kubernetesProject(): { dir: string; env: Record<string, string> } {
  const t = stack().target;
  const dir = mkdtempSync(path.join(SCRATCH, 'project-'));
  copyFileSync(path.join(HERE, 'fixtures', 'console-logger.ts'), path.join(dir, 'console-logger.ts'));
  writeFileSync(path.join(dir, 'flinkfn.config.json'), JSON.stringify({
    targets: { k8s: { kind: 'kubernetes', namespace: 'flink', mode: 'application', image: 'flinkfn-flink:test', kafka: { brokers: t.kafka.brokers }, s3: { bucket: t.s3.bucket, endpoint: t.s3.endpoint, forcePathStyle: true } } },
  }));
  const { accessKeyId, secretAccessKey } = t.s3.credentials!;
  // A kubeconfig that names no cluster: the real kubectl, nothing to reach.
  return { dir, env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: 'us-east-1', KUBECONFIG: path.join(dir, 'no-kubeconfig') } };
}

test('with kubectl but no cluster, a deploy stops at connect with kubectl\'s reason, and writes no record', async () => {
  const { dir, env } = kubernetesProject();
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'deploy', 'console-logger.ts', '--root', dir, '--target', 'k8s', '--json', '--name', 'k8s-nocluster'], { cwd: dir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  if (run.stdout.includes('kubectl is not installed')) {
    // This machine has no kubectl: the missing-kubectl path is tested in packages/cli/test/kubernetes.test.ts.
    assert.unreachable(`kubectl is needed on PATH for this test: ${run.stdout}`);
  }
  assert.is(run.code, 1, run.stderr);
  const error = (JSON.parse(run.stdout) as { error: { message: string; step: string; hint: string } }).error;
  assert.is(error.step, 'connect');
  assert.match(error.message, 'kubectl cannot list FlinkDeployments in "flink"');
  assert.match(error.hint, 'kubectl config current-context');
  const session = await openSession(stack().target, { startLocal: false });
  try {
    assert.not.ok(await session.store.exists(registryKey('k8s-nocluster')), 'no record was written');
  } finally {
    await session.close();
  }
});

test('the record lists Kubernetes objects with their owner before kubectl is asked; teardown goes owners first, after jobs, before topics, and marks nothing deleted that kubectl could not delete', async () => {
  const { env } = kubernetesProject();
  const saved = { ...process.env };
  Object.assign(process.env, { KUBECONFIG: env.KUBECONFIG });
  const session = await openSession(kubernetesTarget(stack().target), { startLocal: false });
  const name = `k8s-rec-${randomBytes(3).toString('hex')}`;
  const deployment = (await Deployment.create(session.store, { name, functionName: built.manifest.name, target: 'k8s' }))!;
  try {
    await deployment.intend('kafka-topic', 'k8s-rec-out', { lifecycle: 'ephemeral', version: 1 });
    await deployment.intend('s3-prefix', `deployments/${name}/checkpoints/`, { lifecycle: 'ephemeral', version: 1 });
    const version = versionOf(built, randomBytes(16).toString('hex'));
    await deployment.addVersion(version);
    const applied = await applyVersion(session, deployment, version, KUBERNETES_DEFAULTS.runtimeJar, { artifactBytes: readFileSync(built.file), initialSavepoint: null, allowNonRestoredState: false }).then(() => null, (e: Error) => e);
    assert.match(applied?.message ?? '', 'kubectl apply', 'no cluster: the apply fails');

    const reloaded = (await Deployment.load(session.store, name))!;
    const objects = reloaded.live('kubernetes-object').map((r) => ({ id: r.id, state: r.state, ownedBy: r.ownedBy ?? null }));
    const configMap = `ConfigMap/flink/${name}-artifact-${built.id.slice(0, 12)}`;
    assert.equal(objects, [
      { id: `FlinkDeployment/flink/${name}`, state: 'intended', ownedBy: null },
      { id: configMap, state: 'intended', ownedBy: `FlinkDeployment/flink/${name}` },
    ]);

    const plan = await planTeardown(session, reloaded, reloaded.live());
    assert.equal(plan.map((p) => `${p.kind} ${p.id}`), [
      `kubernetes-object FlinkDeployment/flink/${name}`,
      `kubernetes-object ${configMap}`,
      'kafka-topic k8s-rec-out',
      `s3-prefix deployments/${name}/checkpoints/`,
    ]);
    const failed = await teardown(session, reloaded, reloaded.live(), { failpointPrefix: 'test' }).then(() => null, (e: Error) => e);
    assert.match(failed?.message ?? '', `kubectl delete FlinkDeployment/${name} -n flink`);
    const after = (await Deployment.load(session.store, name))!;
    assert.equal(after.live('kubernetes-object').map((r) => r.state), ['intended', 'intended'], 'what kubectl could not delete stays listed');
  } finally {
    await session.store.delete(registryKey(name));
    await session.close();
    process.env = saved;
  }
});

test.run();
