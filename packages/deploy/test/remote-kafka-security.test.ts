/**
 * A remote target whose Kafka needs SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and TLS with a private CA, set up
 * as a user would: a flinkfn.config.json with remote targets, secrets in environment variables, the CLI for
 * deploy, send, tail and destroy. The services are the local stack's (Flink, S3Proxy) with a broker that also has
 * SASL_PLAINTEXT, SASL_SSL and SSL listeners and a CA made at its start; the TaskManager gets the SASL variables
 * (the job's `${env:NAME}` settings) and reads the CA from the broker's folder (`taskManagerCaFile`), while the
 * CLI trusts a copy of it next to the config file (`caFile`).
 *
 * The broker authorizes with ACLs (StandardAuthorizer): `alice` is a super user; `flinkfn-job` (the TaskManagers) and
 * `flinkfn-cli` get exactly the ACLs of the table in docs/remote-clusters.md, read from the guide, and a function must
 * still deploy, run and be destroyed with them.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
// Before kafkajs, as everywhere it is loaded (see that module).
import '../src/clients/kafkajs-committed-reads.js';
import kafkajs, { Kafka, logLevel, type AclEntry } from 'kafkajs';
import { startStack, stopStack, type RunningStack } from '@flinkfn/local-stack/stack.mjs';
import { LOCAL_BUCKET, localSidecarCommand } from '../src/index.js';
import { writeRelay } from './support/functions.js';
import { REPO } from './support/inspect.js';

// kafkajs is CommonJS; Node finds these enums only on its default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const test = suite('remote target: Kafka with SASL and TLS');
const CLI = path.join(REPO, 'packages', 'cli', 'bin', 'flinkfn.js');
const USER = { name: 'alice', password: 'alice-secret-1' };
/** Users with only the ACLs the guide lists. */
const JOB_USER = { name: 'flinkfn-job', password: 'job-secret-1' };
const CLI_USER = { name: 'flinkfn-cli', password: 'cli-secret-1' };
/**
 * What the TaskManagers have in their environment: the variables the targets' sasl settings name. The `acl` target's
 * variables hold the job's user here and the CLI's user in the CLI's environment.
 */
const TASK_MANAGER_ENV = {
  ALICE_USER: USER.name, ALICE_PASSWORD: USER.password, FLINKFN_KAFKA_USERNAME: USER.name, FLINKFN_KAFKA_PASSWORD: USER.password,
  KAFKA_ACL_USER: JOB_USER.name, KAFKA_ACL_PASSWORD: JOB_USER.password,
};
const CLI_ACL_ENV = { KAFKA_ACL_USER: CLI_USER.name, KAFKA_ACL_PASSWORD: CLI_USER.password };

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
    kafkaSecurity: { users: [USER, JOB_USER, CLI_USER], superUsers: [USER.name] },
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
  targets.acl = remote({ target: 'acl', listener: 'saslSsl', kafka: { caFile: 'certs/kafka-ca.pem', sasl: { mechanism: 'scram-sha-512', usernameEnv: 'KAFKA_ACL_USER', passwordEnv: 'KAFKA_ACL_PASSWORD' } }, env: {} });
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

/**
 * The ACL table of docs/remote-clusters.md for deployment `name` of a relay (no late topic): each row's resource
 * description is mapped to this function's resources here, so a row this test does not know fails it.
 */
function guideAcls(name: string): AclEntry[] {
  const guide = readFileSync(path.join(REPO, 'docs', 'remote-clusters.md'), 'utf8');
  const topic = (resourceName: string) => ({ resourceType: AclResourceTypes.TOPIC, resourceName, resourcePatternType: ResourcePatternTypes.LITERAL });
  const prefixed = (resourceType: AclEntry['resourceType'], resourceName: string) => ({ resourceType, resourceName, resourcePatternType: ResourcePatternTypes.PREFIXED });
  const resources: Record<string, Array<Omit<AclEntry, 'principal' | 'host' | 'operation' | 'permissionType'>>> = {
    'topic: the source topic': [topic(`${name}-in`)],
    'group: `flinkfn-<name>` (literal)': [{ resourceType: AclResourceTypes.GROUP, resourceName: `flinkfn-${name}`, resourcePatternType: ResourcePatternTypes.LITERAL }],
    'topic: each sink, the late and the dead-letter topic': [topic(`${name}-out`), topic(`${name}-dead-letter`)],
    'transactional id: `flinkfn-<name>-` (prefixed)': [prefixed(AclResourceTypes.TRANSACTIONAL_ID, `flinkfn-${name}-`)],
    'topic: every topic of the function': [topic(`${name}-in`), topic(`${name}-out`), topic(`${name}-dead-letter`)],
    'topic: the sink topics': [topic(`${name}-out`)],
    'group: `flinkfn-tail-` and `flinkfn-dashboard-` (prefixed)': [prefixed(AclResourceTypes.GROUP, 'flinkfn-tail-'), prefixed(AclResourceTypes.GROUP, 'flinkfn-dashboard-')],
    cluster: [{ resourceType: AclResourceTypes.CLUSTER, resourceName: 'kafka-cluster', resourcePatternType: ResourcePatternTypes.LITERAL }],
  };
  const principals: Record<string, string> = { job: `User:${JOB_USER.name}`, CLI: `User:${CLI_USER.name}` };
  const rows = guide.split('\n').filter((line) => /^\| (job|CLI) \|/.test(line)).map((line) => line.split('|').slice(1, 4).map((cell) => cell.trim()));
  assert.ok(rows.length >= 8, `the guide's ACL table has its rows (${rows.length})`);
  return rows.flatMap(([who, resource, operations]) => {
    const targets = resources[resource!];
    if (!targets) throw new Error(`the guide's ACL row "${resource}" is not known to this test`);
    return targets.flatMap((r) => operations!.split(', ').map((op) => {
      const operation = AclOperationTypes[op.toUpperCase() as keyof typeof AclOperationTypes];
      if (operation === undefined) throw new Error(`unknown ACL operation "${op}" in the guide`);
      return { ...r, principal: principals[who!]!, host: '*', operation, permissionType: AclPermissionTypes.ALLOW };
    }));
  });
}

test('with only the ACLs the guide lists, the CLI user deploys, sends, tails, inspects and destroys, and the job user runs the job', async () => {
  const name = 'secure-acl';
  const acls = guideAcls(name);
  // ACLs are created on the PLAINTEXT listener, whose principal (ANONYMOUS) is a super user.
  const admin = new Kafka({ brokers: [stack.kafka.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createAcls({ acl: acls });
  await admin.disconnect();

  const fn = await writeRelay({ name, source: `${name}-in`, sink: `${name}-out`, createSource: 2 });
  const common = ['--root', fn.root, '--target', 'acl', '--json'];
  const deployed = await flinkfn(['deploy', fn.entry, ...common], CLI_ACL_ENV);
  assert.is(deployed.code, 0, `deploy: ${deployed.stderr}`);
  try {
    const input = path.join(root, `${name}.jsonl`);
    await writeFile(input, Array.from({ length: EVENTS }, (_, id) => JSON.stringify({ id })).join('\n') + '\n');
    const sent = await flinkfn(['send', name, '--input', input, ...common], CLI_ACL_ENV);
    assert.is(sent.code, 0, `send: ${sent.stderr}`);
    const tailed = await flinkfn(['tail', name, '--from-beginning', '--limit', String(EVENTS), '--seconds', '300', ...common], CLI_ACL_ENV);
    assert.is(tailed.code, 0, `tail: ${tailed.stderr}`);
    const ids = tailed.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse((JSON.parse(line) as { value: string }).value) as { id: number }).id).sort((a, b) => a - b);
    assert.equal(ids, Array.from({ length: EVENTS }, (_, id) => id), `the job user read and wrote every event: ${tailed.stderr}`);
    const status = await flinkfn(['status', name, ...common], CLI_ACL_ENV);
    assert.is(status.code, 0, `status: ${status.stderr}`);
    // The ACLs are enforced: a function whose topics the guide's rows do not cover cannot be deployed by this user.
    const other = await writeRelay({ name: 'secure-acl-other', source: 'secure-acl-other-in', sink: 'secure-acl-other-out', createSource: 1 });
    const refused = await flinkfn(['deploy', other.entry, '--root', other.root, '--target', 'acl'], CLI_ACL_ENV);
    assert.is(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /not authorized|authoriz/i);
  } finally {
    const destroyed = await flinkfn(['destroy', name, '--yes', ...common], CLI_ACL_ENV);
    assert.is(destroyed.code, 0, `destroy: ${destroyed.stderr}`);
  }
  const check = new Kafka({ brokers: [stack.kafka.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await check.connect();
  const left = (await check.listTopics()).filter((t) => t.startsWith(`${name}-`));
  const groups = (await check.listGroups()).groups.filter((g) => g.groupId === `flinkfn-${name}` || g.groupId.startsWith('flinkfn-tail-'));
  await check.disconnect();
  assert.equal(left, [], 'destroy deleted the topics with the CLI user');
  assert.equal(groups, [], 'and the consumer groups');
});

test.run();
