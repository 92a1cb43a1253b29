import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '@flinkfn/bundler';
import { kafkaClient, ObjectStore } from '../src/index.js';
import { cli, leftovers, REPO, retainedTopicsOf, topicsOf } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('failed deploys roll back and say what to do');
const stack = useStack(test);

const EXAMPLE = path.join(REPO, 'examples', 'shopping-sessions');
const HERE = path.dirname(fileURLToPath(import.meta.url));
const { manifest } = await build({ root: EXAMPLE, write: false });

interface ErrorOutput {
  ok: false;
  error: { message: string; hint?: string; step?: string };
}

test('an unreachable Flink cluster fails at connect, with the URL and a remedy, and creates nothing', async () => {
  const { target } = stack();
  const env = {
    FLINKFN_FLINK_URL: 'http://127.0.0.1:9',
    FLINKFN_KAFKA_BROKERS: target.kafka.brokers.join(','),
    FLINKFN_S3_BUCKET: target.s3.bucket,
    FLINKFN_S3_ENDPOINT: target.s3.endpoint ?? '',
    FLINKFN_S3_FORCE_PATH_STYLE: 'true',
    FLINKFN_SIDECAR_COMMAND: target.sidecarCommand,
    AWS_ACCESS_KEY_ID: target.s3.credentials?.accessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: target.s3.credentials?.secretAccessKey ?? '',
  };
  const result = await cli(['deploy', '--root', EXAMPLE, '--json'], env);
  assert.is(result.code, 1);
  const output = JSON.parse(result.stdout) as ErrorOutput;
  assert.is(output.error.step, 'connect');
  assert.match(output.error.message, 'cannot reach Flink at http://127.0.0.1:9');
  assert.match(output.error.hint ?? '', 'Check the "env" target');
  assert.equal(await leftovers(target, manifest.name, topicsOf(manifest)), []);
});

test('a topic Kafka refuses to create fails the deploy at topics and rolls back what it had created', async () => {
  const { target, env } = stack();
  // Kafka refuses a topic whose name collides with an existing one once "." and "_" are treated alike.
  const admin = kafkaClient(target).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'collide_results', numPartitions: 1, replicationFactor: 1 }] });
  const project = path.join(HERE, '..', '.tmp-test', 'collide');
  await rm(project, { recursive: true, force: true });
  await mkdir(project, { recursive: true });
  await writeFile(
    path.join(project, 'handler.ts'),
    `import { defineFunction } from '@flinkfn/sdk';
export default defineFunction({ name: 'collide', source: { topic: 'collide-in', format: 'json', create: true }, sinks: { out: { topic: 'collide.results' } }, handle: (e: unknown) => e });
`,
  );
  try {
    const result = await cli(['deploy', 'handler.ts', '--root', project, '--json'], env);
    assert.is(result.code, 1, result.stdout + result.stderr);
    const output = JSON.parse(result.stdout) as ErrorOutput;
    assert.match(output.error.message, /collide\.results|collides/);
    assert.match(output.error.message, 'rolled back');
    assert.equal(await leftovers(target, 'collide', ['collide.results', 'collide-in', 'collide-dead-letter']), []);
  } finally {
    await admin.deleteTopics({ topics: ['collide_results'] });
    await admin.disconnect();
  }
});

test('a job that fails at start (the sidecar cannot start) is cancelled and rolled back, and the error quotes the cause', async () => {
  const { target, env } = stack();
  const result = await cli(['deploy', '--root', EXAMPLE, '--json'], { ...env, FLINKFN_SIDECAR_COMMAND: `${process.execPath} /nonexistent/flinkfn-sidecar.js` });
  assert.is(result.code, 1, result.stdout + result.stderr);
  const output = JSON.parse(result.stdout) as ErrorOutput;
  assert.is(output.error.step, 'wait');
  assert.match(output.error.message, 'the job failed while starting');
  assert.match(output.error.message, 'rolled back');
  const store = new ObjectStore(target.s3);
  try {
    assert.equal(await store.list(''), [], 'no record, artifact or state is left');
  } finally {
    store.close();
  }
  // Rolling back removes even topics declared `retain`: this deploy created them and they hold nothing.
  assert.equal(await leftovers(target, manifest.name, [...topicsOf(manifest), ...retainedTopicsOf(manifest)]), []);
});

test.run();
