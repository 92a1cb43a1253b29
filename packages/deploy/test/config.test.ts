import { mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadTarget, ConfigError } from '../src/index.js';

const test = suite('config');
let dir = '';

test.before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flinkfn-config-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withConfig(config: unknown): Promise<string> {
  const project = await mkdtemp(path.join(dir, 'p-'));
  await writeFile(path.join(project, 'flinkfn.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return project;
}

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

test('with no config file and no environment the target is the local stack under .flinkfn/local', async () => {
  const project = await mkdtemp(path.join(dir, 'empty-'));
  const target = await loadTarget({ cwd: project, env: {} });
  assert.is(target.kind, 'local');
  assert.is(target.name, 'local');
  assert.is(target.localRoot, path.join(project, '.flinkfn', 'local'));
  assert.equal(target.localPorts, { flinkRest: 8081, kafka: 9092, s3: 9000 });
});

test('functions in folders of one repository share the repository\'s local stack', async () => {
  const repo = await mkdtemp(path.join(dir, 'repo-'));
  await mkdir(path.join(repo, '.git'));
  await mkdir(path.join(repo, 'functions', 'alerts'), { recursive: true });
  const target = await loadTarget({ cwd: path.join(repo, 'functions', 'alerts'), env: {} });
  assert.is(target.localRoot, path.join(repo, '.flinkfn', 'local'));
});

test('local ports come from the config file and environment variables override them', async () => {
  const project = await withConfig({ targets: { local: { kind: 'local', ports: { flinkRest: 18081, kafka: 19092 } } } });
  const target = await loadTarget({ cwd: project, env: { FLINKFN_LOCAL_KAFKA_PORT: '29092' } });
  assert.equal(target.localPorts, { flinkRest: 18081, kafka: 29092, s3: 9000 });
});

test('a remote target is read from the file and its secrets are only names of environment variables', async () => {
  const project = await withConfig({
    defaultTarget: 'prod',
    targets: {
      prod: {
        kind: 'remote',
        flink: { restUrl: 'https://flink.example.com/' },
        kafka: { brokers: ['b1:9093'], tls: true, sasl: { mechanism: 'scram-sha-512', passwordEnv: 'KAFKA_PW' } },
        s3: { bucket: 'fn-prod', region: 'eu-west-1', prefix: 'team-a/' },
        sidecarCommand: 'node /opt/flinkfn/sidecar/main.js',
      },
    },
  });
  const target = await loadTarget({ cwd: project, env: {} });
  assert.is(target.name, 'prod');
  assert.is(target.flinkUrl, 'https://flink.example.com');
  assert.equal(target.kafka, { brokers: ['b1:9093'], tls: true, sasl: { mechanism: 'scram-sha-512', passwordEnv: 'KAFKA_PW' } });
  assert.is(target.s3.prefix, 'team-a/');
  assert.is(target.s3.credentials, null);
});

test('every remote setting can come from the environment alone, for CI', async () => {
  const project = await mkdtemp(path.join(dir, 'ci-'));
  const target = await loadTarget({
    cwd: project,
    env: { FLINKFN_FLINK_URL: 'http://flink:8081', FLINKFN_KAFKA_BROKERS: 'k1:9092, k2:9092', FLINKFN_S3_BUCKET: 'b', FLINKFN_SIDECAR_COMMAND: 'node /s.js', FLINKFN_S3_ENDPOINT: 'http://minio:9000', FLINKFN_S3_FORCE_PATH_STYLE: 'true' },
  });
  assert.is(target.name, 'env');
  assert.equal(target.kafka.brokers, ['k1:9092', 'k2:9092']);
  assert.is(target.s3.endpoint, 'http://minio:9000');
  assert.is(target.s3.forcePathStyle, true);
});

test('an incomplete environment target names the missing variables', async () => {
  const project = await mkdtemp(path.join(dir, 'ci-missing-'));
  const error = await rejects(loadTarget({ cwd: project, env: { FLINKFN_FLINK_URL: 'http://flink:8081' } }));
  assert.instance(error, ConfigError);
  assert.match(error.message, 'FLINKFN_KAFKA_BROKERS, FLINKFN_S3_BUCKET, FLINKFN_SIDECAR_COMMAND are not');
});

test('an unknown key in the config file is reported with its path', async () => {
  const project = await withConfig({ targets: { prod: { kind: 'remote', flink: { restUrl: 'http://f:8081', user: 'x' }, kafka: { brokers: ['k:1'] }, s3: { bucket: 'bkt' }, sidecarCommand: 'n' } } });
  const error = await rejects(loadTarget({ cwd: project, target: 'prod', env: {} }));
  assert.instance(error, ConfigError);
  assert.match(error.message, 'flinkfn.config.json');
  assert.match(error.message, '/targets/prod/flink: unknown key "user"');
});

test('a broken JSON config file is reported as such, with the file name', async () => {
  const project = await withConfig('{ "targets": ');
  const error = await rejects(loadTarget({ cwd: project, env: {} }));
  assert.match(error.message, /flinkfn\.config\.json: is not valid JSON/);
});

test('asking for a target that does not exist lists the known ones', async () => {
  const project = await withConfig({ targets: { staging: { kind: 'local' } } });
  const error = (await rejects(loadTarget({ cwd: project, target: 'prod', env: {} }))) as ConfigError;
  assert.match(error.message, 'no target named "prod"');
  assert.match(error.hint ?? '', 'staging, local');
});

test('a port that is not a number is refused with the variable name', async () => {
  const project = await mkdtemp(path.join(dir, 'port-'));
  const error = await rejects(loadTarget({ cwd: project, env: { FLINKFN_LOCAL_FLINK_PORT: 'eighty' } }));
  assert.match(error.message, 'FLINKFN_LOCAL_FLINK_PORT: must be a non-negative integer, not "eighty"');
});

test.run();
