/**
 * A remote target whose Kafka needs SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and TLS with a private CA, set up
 * as a user would: a flinkfn.config.json with remote targets, secrets in environment variables, the CLI for
 * deploy, send, tail and destroy. The services are the local stack's (Flink, S3Proxy) with a broker that also has
 * SASL_PLAINTEXT, SASL_SSL and SSL listeners and a CA made at its start; the TaskManager gets the SASL variables
 * (the job's `${env:NAME}` settings) and reads the CA from the broker's folder (`taskManagerCaFile`), while the
 * CLI trusts a copy of it next to the config file (`caFile`).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startStack, stopStack, type RunningStack } from '@flinkfn/local-stack/stack.mjs';
import { LOCAL_BUCKET, localSidecarCommand } from '../src/index.js';
import { writeRelay } from './support/functions.js';
import { REPO } from './support/inspect.js';

const test = suite('remote target: Kafka with SASL and TLS');
const CLI = path.join(REPO, 'packages', 'cli', 'bin', 'flinkfn.js');
const USER = { name: 'alice', password: 'alice-secret-1' };
/** What the TaskManagers have in their environment: the variables the targets' sasl settings name. */
const TASK_MANAGER_ENV = { ALICE_USER: USER.name, ALICE_PASSWORD: USER.password, FLINKFN_KAFKA_USERNAME: USER.name, FLINKFN_KAFKA_PASSWORD: USER.password };

let root = '';
let stack: RunningStack;
let configFile = '';
/** Environment of every CLI run: S3Proxy's keys through the AWS chain, as for any remote bucket. */
let baseEnv: Record<string, string> = {};

interface Case {
  target: string;
  /** Which listener of the broker the target names. */
  listener: 'saslPlaintext' | 'saslSsl' | 'ssl';
  kafka: Record<string, unknown>;
  env: Record<string, string>;
}

const CASES: Case[] = [
  { target: 'sasl-plain', listener: 'saslPlaintext', kafka: { sasl: { mechanism: 'plain', usernameEnv: 'ALICE_USER', passwordEnv: 'ALICE_PASSWORD' } }, env: { ALICE_USER: USER.name, ALICE_PASSWORD: USER.password } },
  { target: 'scram-256-tls', listener: 'saslSsl', kafka: { caFile: 'certs/kafka-ca.pem', sasl: { mechanism: 'scram-sha-256' } }, env: { FLINKFN_KAFKA_USERNAME: USER.name, FLINKFN_KAFKA_PASSWORD: USER.password } },
  { target: 'scram-512-tls', listener: 'saslSsl', kafka: { tls: true, caFile: 'certs/kafka-ca.pem', sasl: { mechanism: 'scram-sha-512' } }, env: { FLINKFN_KAFKA_USERNAME: USER.name, FLINKFN_KAFKA_PASSWORD: USER.password } },
  { target: 'tls', listener: 'ssl', kafka: { caFile: 'certs/kafka-ca.pem' }, env: {} },
];

test.before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'flinkfn-secure-kafka-'));
  stack = await startStack({
    root: path.join(root, 'stack'),
    ports: { flinkRest: 0, kafka: 0, s3: 0 },
    bucket: LOCAL_BUCKET,
    kafkaSecurity: { users: [USER] },
    taskManagerEnv: TASK_MANAGER_ENV,
    onProgress: (line) => process.stdout.write(`  [stack] ${line}\n`),
  });
  const secure = stack.kafka.secure;
  if (!secure) throw new Error('the broker has no secured listeners');
  const project = path.join(root, 'project');
  await mkdir(path.join(project, 'certs'), { recursive: true });
  await copyFile(secure.caFile, path.join(project, 'certs', 'kafka-ca.pem'));
  const remote = (c: Case): object => ({
    kind: 'remote',
    flink: { restUrl: stack.flink.restUrl },
    kafka: { brokers: [secure[c.listener]], ...c.kafka, ...('caFile' in c.kafka ? { taskManagerCaFile: secure.caFile } : {}) },
    s3: { bucket: stack.s3.bucket, region: stack.s3.region, endpoint: stack.s3.endpoint, forcePathStyle: true },
    sidecarCommand: localSidecarCommand(),
    checkpointIntervalMs: 1000,
  });
  const targets: Record<string, object> = Object.fromEntries(CASES.map((c) => [c.target, remote(c)]));
  // The TLS listener without the CA: Node's built-in list does not know it.
  targets['tls-untrusted'] = { ...remote(CASES[3]!), kafka: { brokers: [secure.ssl], tls: true } };
  configFile = path.join(project, 'flinkfn.config.json');
  await writeFile(configFile, JSON.stringify({ $schema: path.join(REPO, 'packages', 'deploy', 'schema', 'config.schema.json'), targets }, null, 2));
  baseEnv = { AWS_ACCESS_KEY_ID: stack.s3.accessKey, AWS_SECRET_ACCESS_KEY: stack.s3.secretKey, FLINKFN_CONFIG: configFile, FLINKFN_LOCAL_CONTROLLER: '0' };
});

test.after(async () => {
  if (root) {
    await stopStack({ root: path.join(root, 'stack') });
    if (!process.env.FLINKFN_KEEP_TEST_STACK) await rm(root, { recursive: true, force: true });
  }
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it: its own process, the target's secrets in its environment only. */
function flinkfn(args: string[], env: Record<string, string>): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^FLINKFN_|^AWS_/.test(key) || key === 'FLINKFN_RUNTIME_JAR'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...clean, ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const EVENTS = 20;

for (const c of CASES) {
  test(`${c.target}: deploy, send, tail and destroy work through the CLI, and the job reads and writes the secured listener`, async () => {
    const name = `secure-${c.target}`;
    const fn = await writeRelay({ name, source: `${name}-in`, sink: `${name}-out`, createSource: 2 });
    const common = ['--root', fn.root, '--target', c.target, '--json'];
    const deployed = await flinkfn(['deploy', fn.entry, ...common], c.env);
    assert.is(deployed.code, 0, `deploy: ${deployed.stderr}`);
    try {
      const input = path.join(root, `${name}.jsonl`);
      await writeFile(input, Array.from({ length: EVENTS }, (_, id) => JSON.stringify({ id })).join('\n') + '\n');
      const sent = await flinkfn(['send', name, '--input', input, ...common], c.env);
      assert.is(sent.code, 0, `send: ${sent.stderr}`);
      // Results are committed with the job's checkpoints (every second); five minutes covers a slow machine.
      const tailed = await flinkfn(['tail', name, '--from-beginning', '--limit', String(EVENTS), '--seconds', '300', ...common], c.env);
      assert.is(tailed.code, 0, `tail: ${tailed.stderr}`);
      const records = tailed.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { topic: string; value: string });
      const ids = records.map((r) => (JSON.parse(r.value) as { id: number; by: string })).filter((v) => v.by === name).map((v) => v.id).sort((a, b) => a - b);
      assert.equal(ids, Array.from({ length: EVENTS }, (_, id) => id), `every event came back through ${c.listener}: ${tailed.stderr}`);
      assert.ok(records.every((r) => r.topic === `${name}-out`));
    } finally {
      const destroyed = await flinkfn(['destroy', name, '--yes', ...common], c.env);
      assert.is(destroyed.code, 0, `destroy: ${destroyed.stderr}`);
    }
  });
}

test('a wrong SASL password is refused before anything is created, and the error names the variables to check', async () => {
  const fn = await writeRelay({ name: 'secure-wrong-password', source: 'secure-wrong-password-in', sink: 'secure-wrong-password-out', createSource: 1 });
  const run = await flinkfn(['deploy', fn.entry, '--root', fn.root, '--target', 'scram-512-tls'], { FLINKFN_KAFKA_USERNAME: USER.name, FLINKFN_KAFKA_PASSWORD: 'not-the-password' });
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, 'refused the SASL scram-sha-512 login of user "alice"');
  assert.match(run.stderr, 'FLINKFN_KAFKA_PASSWORD');
  assert.match(run.stderr, 'kafka.sasl.mechanism');
  const plain = await flinkfn(['ls', '--target', 'sasl-plain', '--json'], { ALICE_USER: USER.name, ALICE_PASSWORD: USER.password });
  assert.is(plain.code, 0, plain.stderr);
  assert.not.match(plain.stdout, 'secure-wrong-password', 'no deployment record was written');
});

test('missing SASL variables and an untrusted broker certificate are named as such', async () => {
  const fn = await writeRelay({ name: 'secure-unset', source: 'secure-unset-in', sink: 'secure-unset-out', createSource: 1 });
  const unset = await flinkfn(['deploy', fn.entry, '--root', fn.root, '--target', 'sasl-plain'], {});
  assert.is(unset.code, 1, unset.stderr);
  assert.match(unset.stderr, 'SASL (plain) needs ALICE_USER and ALICE_PASSWORD in the environment');
  const untrusted = await flinkfn(['deploy', fn.entry, '--root', fn.root, '--target', 'tls-untrusted'], {});
  assert.is(untrusted.code, 1, untrusted.stderr);
  assert.match(untrusted.stderr, "TLS certificate is not trusted");
  assert.match(untrusted.stderr, 'kafka.caFile (FLINKFN_KAFKA_CA_FILE)');
});

test.run();
