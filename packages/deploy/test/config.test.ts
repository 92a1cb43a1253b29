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

test('with no config file and no environment the target is the user\'s local stack under ~/.flinkfn/local', async () => {
  const project = await mkdtemp(path.join(dir, 'empty-'));
  const home = await mkdtemp(path.join(dir, 'home-'));
  const target = await loadTarget({ cwd: project, env: { HOME: home } });
  assert.is(target.kind, 'local');
  assert.is(target.name, 'local');
  assert.is(target.localRoot, path.join(home, '.flinkfn', 'local'));
  assert.equal(target.localPorts, { flinkRest: 8081, kafka: 9092, s3: 9000 });
  assert.is((await loadTarget({ cwd: project, env: { HOME: home, FLINKFN_HOME: path.join(home, 'elsewhere') } })).localRoot, path.join(home, 'elsewhere', 'local'), 'FLINKFN_HOME moves it');
});

test('two projects of one user share one local stack; a project with its own root gets its own', async () => {
  const home = await mkdtemp(path.join(dir, 'home-'));
  const first = await mkdtemp(path.join(dir, 'first-'));
  const second = await mkdtemp(path.join(dir, 'second-'));
  await mkdir(path.join(second, '.git'));
  await mkdir(path.join(second, 'functions', 'alerts'), { recursive: true });
  const a = await loadTarget({ cwd: first, env: { HOME: home } });
  const b = await loadTarget({ cwd: path.join(second, 'functions', 'alerts'), env: { HOME: home } });
  assert.is(a.localRoot, b.localRoot);
  const own = await mkdtemp(path.join(dir, 'own-'));
  await writeFile(path.join(own, 'flinkfn.config.json'), JSON.stringify({ targets: { local: { kind: 'local', root: '.stack' } } }));
  assert.is((await loadTarget({ cwd: own, env: { HOME: home } })).localRoot, path.join(own, '.stack'));
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
  assert.equal(target.kafka, { brokers: ['b1:9093'], tls: true, sasl: { mechanism: 'scram-sha-512', passwordEnv: 'KAFKA_PW' }, caFile: null, taskManagerCaFile: null });
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

test('a CA file is read relative to the config file, means TLS, and is the TaskManagers\' trust store unless one is named', async () => {
  const remote = (kafka: object) => ({ targets: { prod: { kind: 'remote', flink: { restUrl: 'http://f:8081' }, kafka: { brokers: ['b:9093'], ...kafka }, s3: { bucket: 'bkt' }, sidecarCommand: 'node s.js' } } });
  const project = await withConfig(remote({ caFile: 'certs/ca.pem' }));
  const sub = path.join(project, 'functions');
  await mkdir(sub, { recursive: true });
  const target = await loadTarget({ cwd: sub, configPath: path.join(project, 'flinkfn.config.json'), target: 'prod', env: {} });
  assert.equal(target.kafka, { brokers: ['b:9093'], tls: true, sasl: null, caFile: path.join(project, 'certs', 'ca.pem'), taskManagerCaFile: path.join(project, 'certs', 'ca.pem') });

  const named = await withConfig(remote({ tls: true, caFile: '/etc/ca.pem', taskManagerCaFile: '/opt/flink/ca.pem' }));
  const fromFile = await loadTarget({ cwd: named, target: 'prod', env: {} });
  assert.equal([fromFile.kafka.caFile, fromFile.kafka.taskManagerCaFile], ['/etc/ca.pem', '/opt/flink/ca.pem']);
  const fromEnv = await loadTarget({ cwd: named, target: 'prod', env: { FLINKFN_KAFKA_CA_FILE: 'ci/ca.pem', FLINKFN_KAFKA_TASKMANAGER_CA_FILE: '/tm/ca.pem' } });
  assert.equal([fromEnv.kafka.caFile, fromEnv.kafka.taskManagerCaFile], [path.join(named, 'ci', 'ca.pem'), '/tm/ca.pem']);

  const relative = await rejects(loadTarget({ cwd: named, target: 'prod', env: { FLINKFN_KAFKA_TASKMANAGER_CA_FILE: 'ca.pem' } }));
  assert.is(relative.message, 'FLINKFN_KAFKA_TASKMANAGER_CA_FILE: must be an absolute path on the TaskManagers, not "ca.pem"');
  const noTls = await rejects(loadTarget({ cwd: named, target: 'prod', env: { FLINKFN_KAFKA_TLS: 'false' } }));
  assert.match(noTls.message, /^FLINKFN_KAFKA_TLS: is false, but a CA file for TLS is set/);
  const schema = await rejects(loadTarget({ cwd: await withConfig(remote({ taskManagerCaFile: 'ca.pem' })), target: 'prod', env: {} }));
  assert.match(schema.message, '/targets/prod/kafka/taskManagerCaFile: "ca.pem" does not match ^/');
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
  assert.match(error.message, '/targets/prod/flink: unknown key "user" (allowed: restUrl)');
});

test('a config file that is not valid JSON is reported with the line and column of the mistake', async () => {
  const cases: Array<[string, string]> = [
    ['{ "targets": ', 'flinkfn.config.json:1:14: is not valid JSON: value expected'],
    ['{\n  "targets": {\n    "a": { "kind": "local", }\n  }\n}\n', 'flinkfn.config.json:3:29: is not valid JSON: property name expected, found "}"'],
    ['{\n  "targets": {\n    "a": { "kind": tru }\n  }\n}\n', 'flinkfn.config.json:3:20: is not valid JSON: invalid symbol, found "tru"'],
    ['{\n  targets: {}\n}\n', 'flinkfn.config.json:2:3: is not valid JSON: invalid symbol, found "targets"'],
    ['{\n  "defaultTarget": "local"\n  "targets": {}\n}\n', 'flinkfn.config.json:3:3: is not valid JSON: comma expected, found "\\"targets\\""'],
  ];
  for (const [text, expected] of cases) {
    const project = await withConfig(text);
    const error = (await rejects(loadTarget({ cwd: project, env: {} }))) as ConfigError;
    assert.instance(error, ConfigError);
    assert.is(error.message, `${path.join(project, expected.split(':')[0]!)}:${expected.split(':').slice(1).join(':')}`, JSON.stringify(text));
    assert.match(error.hint ?? '', /double quotes/);
  }
});

test('one wrong value in a remote target is the one error: its JSON path, the value, the allowed values', async () => {
  const project = await withConfig({
    targets: {
      prod: {
        kind: 'remote',
        flink: { restUrl: 'https://flink.example.com' },
        kafka: { brokers: ['b1:9093'], tls: true, sasl: { mechanism: 'SCRAM-SHA-512' } },
        s3: { bucket: 'flinkfn-prod', region: 'eu-west-1' },
        sidecarCommand: 'node /opt/flinkfn/sidecar/main.js',
      },
    },
  });
  const error = await rejects(loadTarget({ cwd: project, target: 'prod', env: {} }));
  assert.is(
    error.message,
    `${path.join(project, 'flinkfn.config.json')}: /targets/prod/kafka/sasl/mechanism: "SCRAM-SHA-512" is not one of "plain", "scram-sha-256", "scram-sha-512" (did you mean "scram-sha-512"?)`,
  );
});

test('each mistake of a config file is named once, in the branch its target\'s kind chose', async () => {
  const project = await withConfig({
    targets: {
      dev: { kind: 'remot' },
      nokind: { root: 'a' },
      loc: { kind: 'local', ports: { flink: 1 }, checkpointIntervalMs: 5 },
      prod: { kind: 'remote', flink: { restUrl: 'flink:8081' }, kafka: { brokers: ['b1:9093'], tsl: true }, s3: { bucket: 'flinkfn-prod' }, sidecarCommand: 'node s.js' },
    },
  });
  const error = await rejects(loadTarget({ cwd: project, env: {} }));
  const problems = error.message.slice(error.message.indexOf(': ') + 2).split('; ');
  assert.equal(problems, [
    '/targets/dev/kind: "remot" is not one of "local", "remote", "kubernetes" (did you mean "remote"?)',
    '/targets/nokind: "kind" is missing (one of "local", "remote", "kubernetes")',
    '/targets/loc/ports: unknown key "flink" (allowed: flinkRest, kafka, s3)',
    '/targets/loc/checkpointIntervalMs: 5 must be >= 100',
    '/targets/prod/flink/restUrl: "flink:8081" does not match ^https?://',
    '/targets/prod/kafka: unknown key "tsl" (did you mean "tls"? allowed: brokers, tls, caFile, taskManagerCaFile, sasl)',
  ]);
});

test('environment variables set to "" count as unset (CI passes unset secrets so); booleans are true or false', async () => {
  const project = await mkdtemp(path.join(dir, 'env-'));
  const base = { FLINKFN_FLINK_URL: 'http://flink:8081', FLINKFN_KAFKA_BROKERS: 'k:9092', FLINKFN_S3_BUCKET: 'bkt', FLINKFN_SIDECAR_COMMAND: 'node s.js' };
  const empty = { FLINKFN_KAFKA_TLS: '', FLINKFN_KAFKA_SASL_MECHANISM: '', FLINKFN_S3_REGION: '', FLINKFN_S3_ENDPOINT: '', FLINKFN_S3_FORCE_PATH_STYLE: '', FLINKFN_S3_PREFIX: '', FLINKFN_CHECKPOINT_INTERVAL_MS: '', FLINKFN_TARGET: '' };
  const target = await loadTarget({ cwd: project, env: { ...base, ...empty } });
  assert.is(target.name, 'env');
  assert.equal(target.kafka, { brokers: ['k:9092'], tls: false, sasl: null, caFile: null, taskManagerCaFile: null });
  assert.equal({ region: target.s3.region, endpoint: target.s3.endpoint, prefix: target.s3.prefix, forcePathStyle: target.s3.forcePathStyle }, { region: 'us-east-1', endpoint: null, prefix: '', forcePathStyle: false });
  assert.is((await loadTarget({ cwd: project, env: {} })).kind, 'local', 'an empty FLINKFN_FLINK_URL leaves the local target');
  const tls = await rejects(loadTarget({ cwd: project, env: { ...base, FLINKFN_KAFKA_TLS: 'yes' } }));
  assert.is(tls.message, 'FLINKFN_KAFKA_TLS: must be true or false, not "yes"');
  const sasl = await rejects(loadTarget({ cwd: project, env: { ...base, FLINKFN_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' } }));
  assert.is(sasl.message, 'FLINKFN_KAFKA_SASL_MECHANISM: must be plain, scram-sha-256 or scram-sha-512, not "SCRAM-SHA-512" (did you mean "scram-sha-512"?)');
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

const kubernetesTarget = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'kubernetes', namespace: 'flink', mode: 'application', image: 'registry.example.com/flinkfn-flink:0.1.0',
  kafka: { brokers: ['kafka.kafka:9092'] }, s3: { bucket: 'flinkfn-prod', region: 'eu-west-1', prefix: 'team-a/' }, ...extra,
});

test('a kubernetes target resolves with the operator\'s defaults, and Kafka and S3 as a remote target\'s', async () => {
  const project = await withConfig({ targets: { k8s: kubernetesTarget({ resources: { taskManager: { slots: 2 }, sidecar: { memory: '256Mi' } } }) } });
  const target = await loadTarget({ cwd: project, target: 'k8s', env: {} });
  assert.is(target.kind, 'kubernetes');
  assert.equal(target.kubernetes, {
    namespace: 'flink', mode: 'application', sessionDeployment: null, image: 'registry.example.com/flinkfn-flink:0.1.0', imagePullPolicy: null,
    serviceAccount: 'flink', flinkVersion: 'v2_2', upgradeMode: 'savepoint', runtimeJar: 'local:///opt/flinkfn/flinkfn-runtime.jar',
    resources: { jobManager: { cpu: 1, memory: '2048m' }, taskManager: { cpu: 1, memory: '2048m', slots: 2, replicas: 1 }, sidecar: { cpu: '500m', memory: '256Mi' } },
    flinkConfiguration: {}, envSecret: null,
  });
  assert.is(target.sidecarCommand, 'node /opt/flinkfn/node_modules/@flinkfn/sidecar/bin/flinkfn-sidecar.js');
  assert.equal(target.kafka.brokers, ['kafka.kafka:9092']);
  assert.is(target.s3.prefix, 'team-a/');
  assert.is(target.flinkUrl, '', 'the operator submits; no REST URL unless one is given');
  const local = await loadTarget({ cwd: project, target: 'local', env: {} });
  assert.is(local.kubernetes, null);
});

test('kubernetes target mistakes name the path, what is allowed and the nearest allowed name', async () => {
  const typo = await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ namespce: 'x' }) } }), target: 'k8s', env: {} }));
  assert.instance(typo, ConfigError);
  assert.match(typo.message, '/targets/k8s: unknown key "namespce" (did you mean "namespace"?');
  const mode = await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ mode: 'sesion' }) } }), target: 'k8s', env: {} }));
  assert.match(mode.message, '/targets/k8s/mode: "sesion" is not one of "application", "session" (did you mean "session"?)');
  const upgrade = await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ upgradeMode: 'stateless' }) } }), target: 'k8s', env: {} }));
  assert.match(upgrade.message, '/targets/k8s/upgradeMode: "stateless" is not one of "savepoint", "last-state"');
  const namespace = await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ namespace: 'Flink_Jobs' }) } }), target: 'k8s', env: {} }));
  assert.match(namespace.message, '/targets/k8s/namespace: "Flink_Jobs" does not match');
  const kind = await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ kind: 'kubernets' }) } }), target: 'k8s', env: {} }));
  assert.match(kind.message, '/targets/k8s/kind: "kubernets" is not one of "local", "remote", "kubernetes" (did you mean "kubernetes"?)');
  const missing = await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: { kind: 'kubernetes', namespace: 'flink', mode: 'application', kafka: { brokers: ['k:1'] }, s3: { bucket: 'bkt' } } } }), target: 'k8s', env: {} }));
  assert.match(missing.message, "/targets/k8s: must have required property 'image'");
});

test('session mode needs the session FlinkDeployment\'s name and a jar the operator can download', async () => {
  const noSession = (await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ mode: 'session' }) } }), target: 'k8s', env: {} }))) as ConfigError;
  assert.instance(noSession, ConfigError);
  assert.is(noSession.where, 'sessionDeployment');
  assert.match(noSession.message, 'mode "session" needs "sessionDeployment"');
  assert.match(noSession.hint ?? '', 'flinkfn render --session-cluster');
  const localJar = (await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ mode: 'session', sessionDeployment: 'flinkfn-session', runtimeJar: 'local:///opt/flinkfn/flinkfn-runtime.jar' }) } }), target: 'k8s', env: {} }))) as ConfigError;
  assert.is(localJar.where, 'runtimeJar');
  assert.match(localJar.hint ?? '', 'https:// or s3://');
  const stray = await rejects(loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ sessionDeployment: 'flinkfn-session' }) } }), target: 'k8s', env: {} }));
  assert.match(stray.message, 'sessionDeployment: is only used in mode "session"');
  const session = await loadTarget({ cwd: await withConfig({ targets: { k8s: kubernetesTarget({ mode: 'session', sessionDeployment: 'flinkfn-session' }) } }), target: 'k8s', env: {} });
  assert.is(session.kubernetes?.sessionDeployment, 'flinkfn-session');
  assert.is(session.kubernetes?.runtimeJar, '', 'deploy uploads the jar to the bucket');
});

test.run();
