/**
 * docs/remote-clusters.md cannot be run here (no Docker, no registry with published packages, no AWS), so this
 * checks what can be checked of it: every path, package, version, config key, environment variable and name it
 * gives is the one the code uses, its JSON examples are valid, and its shell script parses.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadTarget, PACKAGED_RUNTIME_JAR } from '../src/index.js';
import { REPO } from './support/inspect.js';

const test = suite('docs/remote-clusters.md');
const GUIDE = readFileSync(path.join(REPO, 'docs', 'remote-clusters.md'), 'utf8');
const read = (file: string): string => readFileSync(path.join(REPO, file), 'utf8');
const manifest = (pkg: string): { name: string; bin?: Record<string, string>; files?: string[]; engines?: { node?: string } } =>
  JSON.parse(read(path.join('packages', pkg, 'package.json'))) as never;

/** The fenced blocks of one language, in order. */
function blocks(language: string): string[] {
  return [...GUIDE.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** The value of `<name>` in a pom's properties. */
function pomProperty(pom: string, name: string): string {
  const value = new RegExp(`<${name}>([^<]+)</${name}>`).exec(read(pom))?.[1];
  if (!value) throw new Error(`${pom} has no <${name}>`);
  return value;
}

test('the sidecar path it names is the bin of @flinkfn/sidecar, which the package publishes', () => {
  const sidecar = manifest('sidecar');
  const bin = sidecar.bin?.['flinkfn-sidecar'];
  assert.is(bin, './bin/flinkfn-sidecar.js');
  assert.ok(existsSync(path.join(REPO, 'packages', 'sidecar', bin!)));
  assert.ok(sidecar.files?.includes('bin') && sidecar.files.includes('dist'), 'published with bin/ and dist/');
  const named = [...GUIDE.matchAll(/node_modules\/(@flinkfn\/sidecar\/[\w./-]+\.js)/g)].map((m) => m[1]);
  assert.ok(named.length >= 4, `the guide names the sidecar path (${named.length} times)`);
  for (const file of named) assert.is(file, `${sidecar.name}/${bin!.slice(2)}`);
});

test('the runtime jar it names is the one @flinkfn/deploy ships and install.ts finds', () => {
  const deploy = manifest('deploy');
  const relative = path.relative(path.join(REPO, 'packages', 'deploy'), PACKAGED_RUNTIME_JAR);
  assert.is(relative, 'runtime/flinkfn-runtime.jar');
  assert.ok(deploy.files?.includes('runtime'), '@flinkfn/deploy publishes runtime/');
  assert.ok(GUIDE.includes(`node_modules/${deploy.name}/${relative}`));
  assert.ok(GUIDE.includes('`FLINKFN_RUNTIME_JAR`') && read('packages/deploy/src/install.ts').includes('FLINKFN_RUNTIME_JAR'));
});

test('the Flink, connector, Kafka and Node versions are the ones built and tested here', () => {
  const flink = pomProperty('packages/runtime-flink/pom.xml', 'flink.version');
  assert.is(pomProperty('packages/local-stack/flink/pom.xml', 'flink.version'), flink, 'the local stack runs the version the jar is built for');
  assert.ok(GUIDE.includes(`**${flink}**`), `the guide says Flink ${flink} is tested`);
  assert.ok(GUIDE.includes(`flink-connector-kafka ${pomProperty('packages/runtime-flink/pom.xml', 'flink.kafka.version')}`));
  assert.ok(GUIDE.includes(`Apache Kafka ${pomProperty('packages/local-stack/kafka/pom.xml', 'kafka.version')}`));
  const dockerfile = blocks('dockerfile')[0] ?? '';
  assert.match(dockerfile, new RegExp(`^FROM flink:${flink.replaceAll('.', '\\.')}-java17$`, 'm'));
  assert.ok(GUIDE.includes(`ENABLE_BUILT_IN_PLUGINS=flink-s3-fs-presto-${flink}.jar`));
  const java = pomProperty('packages/runtime-flink/pom.xml', 'maven.compiler.release');
  assert.ok(GUIDE.includes(`| Java on the cluster | ${java} |`), `the jar targets Java ${java}`);
  // Node: the image's line must be one the sidecar's engines allow.
  const minimum = Number(/>=\s*(\d+)/.exec(manifest('sidecar').engines?.node ?? '')?.[1]);
  for (const [, major] of GUIDE.matchAll(/node:(\d+)-bookworm-slim/g)) assert.ok(Number(major) >= minimum, `node ${major} >= ${minimum}`);
});

test('the S3 plugin it installs is the one the local stack runs', () => {
  const plugin = /artifact: '(flink-s3-fs-[a-z]+)'/.exec(read('packages/local-stack/flink.mjs'))?.[1];
  assert.is(plugin, 'flink-s3-fs-presto');
  const dockerfile = blocks('dockerfile')[0] ?? '';
  assert.ok(dockerfile.includes(`/opt/flink/plugins/s3-fs-presto`) && dockerfile.includes(`/opt/flink/opt/${plugin}-*.jar`));
});

test('its target example is a valid config whose settings resolve as the text says', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flinkfn-guide-'));
  try {
    const example = blocks('json').find((b) => b.includes('"targets"'));
    assert.ok(example, 'the guide has a target example');
    await writeFile(path.join(dir, 'flinkfn.config.json'), example!);
    const target = await loadTarget({ cwd: dir, target: 'prod', env: {} });
    assert.is(target.kind, 'remote');
    assert.is(target.kafka.tls, true, 'a CA file means TLS');
    assert.is(target.kafka.caFile, path.join(dir, 'certs', 'kafka-ca.pem'), 'caFile is relative to the config file');
    assert.is(target.kafka.taskManagerCaFile, '/opt/flinkfn/kafka-ca.pem');
    const dockerfile = blocks('dockerfile')[0] ?? '';
    assert.ok(dockerfile.includes(`COPY kafka-ca.pem ${target.kafka.taskManagerCaFile}`), 'the image puts the CA where the target says');
    const [node, sidecar] = target.sidecarCommand.split(' ');
    assert.is(node, 'node');
    assert.ok(dockerfile.includes('/usr/local/bin/node') && dockerfile.includes('COPY --from=sidecar /opt/flinkfn /opt/flinkfn') && sidecar!.startsWith('/opt/flinkfn/node_modules/'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the config keys and environment variables it mentions exist', () => {
  type Node = { $ref?: string; properties?: Record<string, { properties?: object }> };
  const schema = JSON.parse(read('packages/deploy/schema/config.schema.json')) as { definitions: Record<string, Node> & { remoteTarget: { properties: Record<string, Node> } } };
  // kafka and s3 are definitions shared with the kubernetes target, referenced from the remote one.
  const definition = (node: Node | undefined): Node | undefined => (node?.$ref ? schema.definitions[node.$ref.split('/').at(-1)!] : node);
  const remote = schema.definitions.remoteTarget.properties;
  const keys = [...new Set([...GUIDE.matchAll(/`((?:kafka|s3|flink)\.[A-Za-z]+(?:\.[A-Za-z]+)?)`/g)].map((m) => m[1]!))].filter((k) => !/^s3\.(access|secret|path)/.test(k));
  assert.ok(keys.length >= 4, `keys found: ${keys.join(', ')}`);
  for (const key of keys) {
    const [group, name, sub] = key.split('.') as [string, string, string | undefined];
    const node = definition(remote[group])?.properties?.[name];
    assert.ok(node && (sub === undefined || sub in ((node.properties ?? {}) as object)), `${key} is in the remote target schema`);
  }
  const sources = ['packages/deploy/src/config.ts', 'packages/deploy/src/install.ts', 'packages/deploy/src/clients/kafka.ts'].map(read).join('\n');
  const variables = [...new Set([...GUIDE.matchAll(/\b(FLINKFN_[A-Z_]+)\b/g)].map((m) => m[1]!))];
  assert.ok(variables.length >= 5);
  for (const variable of variables.filter((v) => v !== 'FLINKFN_HOME' && v !== 'FLINKFN_VERSION')) assert.match(sources, new RegExp(`(env\\.|')${variable}\\b`), `${variable} is read by the code`);
  assert.ok(read('docs/deploy.md').includes('FLINKFN_KAFKA_CA_FILE') && read('docs/deploy.md').includes('FLINKFN_KAFKA_TASKMANAGER_CA_FILE'), 'deploy.md lists the CA variables');
});

test('the ACL table names the consumer groups and transactional ids the code uses', () => {
  const connectors = read('packages/runtime-flink/src/main/java/dev/flinkfn/runtime/job/KafkaConnectors.java');
  assert.ok(connectors.includes('.setGroupId("flinkfn-" + deploymentId)') && GUIDE.includes('group: `flinkfn-<name>` (literal)'));
  assert.ok(connectors.includes('.setTransactionalIdPrefix("flinkfn-" + deploymentId + "-" + topic)') && GUIDE.includes('transactional id: `flinkfn-<name>-` (prefixed)'));
  assert.ok(read('packages/deploy/src/lifecycle/job-spec.ts').includes("'--deployment-id', name") && read('packages/deploy/src/lifecycle/versions.ts').includes('jobArguments(target, uri, deployment.name,'), 'the deployment id is its name');
  assert.ok(read('packages/deploy/src/streams/tail.ts').includes('`flinkfn-tail-${') && read('packages/dashboard/src/results.ts').includes("READER_GROUP_PREFIX = 'flinkfn-dashboard-'"));
  assert.ok(GUIDE.includes('`flinkfn-tail-` and `flinkfn-dashboard-` (prefixed)'));
  assert.ok(read('packages/deploy/src/clients/kafka.ts').includes('EnvVarConfigProvider') && GUIDE.includes('`org.apache.kafka.common.config.provider.EnvVarConfigProvider`'));
});

test('its IAM policy is valid JSON for the example bucket and prefix, and its links resolve', () => {
  const policy = JSON.parse(blocks('json').find((b) => b.includes('"Statement"')) ?? '') as { Statement: Array<{ Resource: string }> };
  assert.equal(policy.Statement.map((s) => s.Resource), ['arn:aws:s3:::flinkfn-prod', 'arn:aws:s3:::flinkfn-prod/team-a/*']);
  assert.ok(read('docs/deploy.md').includes('## Layout in the bucket'));
  for (const [, file] of GUIDE.matchAll(/`(packages\/[\w./-]+)`/g)) assert.ok(existsSync(path.join(REPO, file!)), `${file} exists`);
});

test('its init script is valid sh', () => {
  const [script] = blocks('sh').filter((b) => b.startsWith('#!/bin/sh'));
  assert.ok(script, 'the guide has an init script');
  const parsed = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  assert.is(parsed.status, 0, parsed.stderr);
});

test.run();
