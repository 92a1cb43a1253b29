/**
 * The command line against a kubernetes target, as a user runs it, on a machine without a cluster: `flinkfn render`
 * prints the manifests (YAML and --json) without kubectl; `deploy`, `destroy` and `gc` fail at connect with an error
 * that says kubectl is missing and what to do, before anything is built or written; FLINKFN_KUBECTL pointing at a
 * file that is not a program is named as such.
 */
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { flinkfn, project } from './helpers.js';

const test = suite('cli: kubernetes target');

const HANDLER = [
  "import { defineFunction } from '@flinkfn/sdk';",
  "export default defineFunction({ name: 'echo', source: { topic: 'in' }, sinks: { out: { topic: 'out' } }, handle: (e: { n: number }) => ({ n: e.n }) });",
  '',
].join('\n');

const CONFIG = JSON.stringify({
  targets: {
    k8s: {
      kind: 'kubernetes', namespace: 'flink', mode: 'application', image: 'registry.example.com/flinkfn-flink:0.1.0',
      kafka: { brokers: ['kafka.kafka:9092'] }, s3: { bucket: 'flinkfn-test' },
    },
    session: {
      kind: 'kubernetes', namespace: 'flink', mode: 'session', sessionDeployment: 'flinkfn-session', image: 'registry.example.com/flinkfn-flink:0.1.0',
      kafka: { brokers: ['kafka.kafka:9092'] }, s3: { bucket: 'flinkfn-test' },
    },
  },
});

/**
 * An environment whose PATH holds only node (a folder with a link to it: node's own folder may hold kubectl too, as
 * /usr/bin does here), HOME in a scratch folder.
 */
function withoutKubectl(): NodeJS.ProcessEnv {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-bin-'));
  symlinkSync(process.execPath, path.join(bin, 'node'));
  return { PATH: bin, HOME: mkdtempSync(path.join(os.tmpdir(), 'flinkfn-home-')) };
}

test('render prints the FlinkDeployment and the artifact ConfigMap as YAML, and as JSON with --json, without kubectl', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': HANDLER, 'flinkfn.config.json': CONFIG });
  try {
    const yaml = flinkfn(['render', '--target', 'k8s', '--root', dir], { cwd: dir, env: withoutKubectl() });
    assert.is(yaml.code, 0, yaml.stderr);
    const objects = parseAllDocuments(yaml.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec?: { job?: { args: string[] } } });
    assert.equal(objects.map((o) => `${o.kind}/${o.metadata.name}`).map((s) => s.replace(/-[0-9a-f]{12}$/, '-<id>')), ['FlinkDeployment/echo', 'ConfigMap/echo-artifact-<id>']);
    assert.ok(objects[0]!.spec!.job!.args.includes('--sidecar-socket'));
    assert.match(yaml.stderr, 'note: the ConfigMap gets an ownerReference to FlinkDeployment echo at deploy');
    const json = flinkfn(['render', '--target', 'k8s', '--root', dir, '--json'], { cwd: dir, env: withoutKubectl() });
    assert.is(json.code, 0, json.stderr);
    const document = JSON.parse(json.stdout) as { ok: boolean; objects: Array<{ kind: string }> };
    assert.equal(document.objects.map((o) => o.kind), ['FlinkDeployment', 'ConfigMap']);
    const session = flinkfn(['render', '--target', 'session', '--session-cluster'], { cwd: dir, env: withoutKubectl() });
    assert.is(session.code, 0, session.stderr);
    assert.match(session.stdout, 'name: flinkfn-session');
    const job = flinkfn(['render', '--target', 'session', '--root', dir], { cwd: dir, env: withoutKubectl() });
    assert.is(job.code, 0, job.stderr);
    assert.match(job.stdout, 'kind: FlinkSessionJob');
    assert.match(job.stdout, 'deploymentName: flinkfn-session');
  } finally {
    cleanup();
  }
});

test('render for a target that is not a kubernetes one says so', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': HANDLER, 'flinkfn.config.json': CONFIG });
  try {
    const run = flinkfn(['render', '--target', 'local', '--root', dir], { cwd: dir, env: withoutKubectl() });
    assert.is(run.code, 1, run.stderr);
    assert.match(run.stderr, 'is a local target, not a Kubernetes one');
  } finally {
    cleanup();
  }
});

test('without kubectl, deploy, destroy and gc fail at connect, naming what is missing and what to do', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': HANDLER, 'flinkfn.config.json': CONFIG });
  try {
    for (const args of [['deploy', '--root', dir], ['destroy', 'echo', '--yes'], ['gc']]) {
      const run = flinkfn([...args, '--target', 'k8s', '--json'], { cwd: dir, env: withoutKubectl() });
      assert.is(run.code, 1, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      const error = (JSON.parse(run.stdout) as { ok: boolean; error: { message: string; step: string; hint: string } }).error;
      assert.match(error.message, 'kubectl is not installed', args.join(' '));
      assert.is(error.step, 'connect');
      assert.match(error.hint, 'Install kubectl');
      assert.match(error.hint, 'FLINKFN_KUBECTL');
    }
    const human = flinkfn(['deploy', '--root', dir, '--target', 'k8s'], { cwd: dir, env: withoutKubectl() });
    assert.is(human.code, 1);
    assert.match(human.stderr, 'kubectl is not installed');
  } finally {
    cleanup();
  }
});

test('FLINKFN_KUBECTL naming a file that is not a program is named as such', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': HANDLER, 'flinkfn.config.json': CONFIG });
  try {
    const notAProgram = path.join(dir, 'kubectl.txt');
    writeFileSync(notAProgram, 'not a program\n');
    chmodSync(notAProgram, 0o644);
    const run = flinkfn(['destroy', 'echo', '--yes', '--target', 'k8s', '--json'], { cwd: dir, env: { ...withoutKubectl(), FLINKFN_KUBECTL: notAProgram } });
    assert.is(run.code, 1, run.stderr);
    const error = (JSON.parse(run.stdout) as { error: { message: string; hint: string } }).error;
    assert.match(error.message, `FLINKFN_KUBECTL names "${notAProgram}", which is not an executable file`);
  } finally {
    cleanup();
  }
});

test.run();
