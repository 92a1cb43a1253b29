/**
 * Settings and secrets on the real local stack: a function that answers each event with its settings and a digest
 * of its secret runs with the values from the target's settings, --set and FLINKFN_SECRET_<NAME>; the secret's value
 * is nowhere in the deployment record, the artifact or what Flink's REST API shows of the job; an upgrade runs with
 * the new secret, a rollback with the old one; destroy deletes every version's secrets object, and so does a destroy
 * after a deploy killed right after writing it.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  artifactKey, deploy, DeployError, destroy, Deployment, ObjectStore, registryKey, rollback, secretsKey, type ResolvedTarget,
} from '../src/index.js';
import { cli, consume, leftovers, produce } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('settings and secrets on the real local stack');
const stack = useStack(test);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.join(HERE, '..', '.tmp-test', 'settings-echo');
const NAME = 'settings-echo';
const TOPICS = ['settings-echo-in', 'settings-echo-out', 'settings-echo-dead-letter'];
// Distinctive, so that a search for them cannot match anything else.
const SECRET_V1 = 'tok-v1-7d1f0c2a9b3e4f56a8c0';
const SECRET_V2 = 'tok-v2-e5b9d3c1f0a2468ace13-longer';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

test.before(async () => {
  await rm(PROJECT, { recursive: true, force: true });
  await mkdir(PROJECT, { recursive: true });
  await copyFile(path.join(HERE, 'fixtures', 'settings-echo.ts'), path.join(PROJECT, 'settings-echo.ts'));
});

const withSettings = (target: ResolvedTarget, settings: Record<string, string>): ResolvedTarget => ({ ...target, settings });

async function outputs(target: ResolvedTarget, count: number): Promise<Array<Record<string, unknown>>> {
  const values = (await consume(target, 'settings-echo-out', count)).map((v) => JSON.parse(v) as Record<string, unknown>);
  return values.sort((a, b) => Number(a['n']) - Number(b['n']));
}

/** Everything Flink's REST API shows about a job that could carry a value: its config, its details, its plan. */
async function whatFlinkShows(target: ResolvedTarget, jobId: string): Promise<string> {
  const texts: string[] = [];
  for (const route of [`/jobs/${jobId}/config`, `/jobs/${jobId}`, `/jobs/${jobId}/plan`, '/jobmanager/config']) {
    const response = await fetch(`${target.flinkUrl}${route}`);
    assert.is(response.status, 200, `GET ${route}`);
    texts.push(await response.text());
  }
  return texts.join('\n');
}

test('a missing secret fails the deploy before anything is created, naming the variable', async () => {
  const { target } = stack();
  try {
    await deploy({ target: withSettings(target, { region: 'eu-west' }), root: PROJECT, entry: 'settings-echo.ts', env: {} });
    assert.unreachable('deployed without apiToken');
  } catch (error) {
    assert.instance(error, DeployError);
    assert.is((error as DeployError).step, 'settings');
    assert.match((error as DeployError).message, /no value for the setting 'apiToken' \(secret\)/);
    assert.match((error as DeployError).hint ?? '', /export FLINKFN_SECRET_API_TOKEN=<value>/);
  }
  assert.equal(await leftovers(target, NAME, TOPICS, { scoped: true }), [], 'no record, topic or object');
});

test('the job runs with the settings given; the secret is only in its own object; upgrade, rollback and destroy use and remove the right ones', async () => {
  const { target } = stack();
  const store = new ObjectStore(target.s3);
  try {
    const first = await deploy({
      target: withSettings(target, { region: 'eu-west', unrelated: 'another function\'s' }),
      root: PROJECT, entry: 'settings-echo.ts', settings: { greeting: 'hi' }, env: { FLINKFN_SECRET_API_TOKEN: SECRET_V1 },
    });
    assert.equal(first.settings, { greeting: 'hi', region: 'eu-west' });
    assert.equal(first.secrets, ['apiToken']);
    // One event per partition: both subtasks run with the values.
    await produce(target, 'settings-echo-in', [JSON.stringify({ n: 0 }), JSON.stringify({ n: 1 })], (i) => i);
    assert.equal(await outputs(target, 2), [0, 1].map((n) =>
      ({ n, greeting: 'hi', region: 'eu-west', tokenLength: SECRET_V1.length, tokenSha256: sha256(SECRET_V1) })));

    // The record names the secrets object by key, digest and the secrets' names.
    const recordText = (await store.getText(registryKey(NAME)))!;
    const record = (await Deployment.load(store, NAME))!.record;
    const v1Object = secretsKey(NAME, 1);
    assert.equal(record.versions[0]?.secrets?.object, v1Object);
    assert.equal(record.versions[0]?.secrets?.names, ['apiToken']);
    assert.equal(record.versions[0]?.settings, { greeting: 'hi', region: 'eu-west' });
    const resource = record.resources.find((r) => r.id === v1Object);
    assert.equal({ kind: resource?.kind, state: resource?.state, role: resource?.role, lifecycle: resource?.lifecycle }, { kind: 's3-object', state: 'created', role: 'secrets', lifecycle: 'ephemeral' });
    const objectText = (await store.getText(v1Object))!;
    assert.is(resource?.sha256, sha256(objectText), 'the recorded digest is the object\'s');
    assert.ok(objectText.includes(SECRET_V1), 'the secret is in its object');

    // ... and nowhere else: not in the record, the artifact, or anything Flink shows of the job.
    const artifactText = (await store.getText(artifactKey(first.artifactId)))!;
    const flinkText = await whatFlinkShows(target, first.jobId);
    assert.match(flinkText, /settings-echo/, 'the REST answers are about this job');
    for (const [where, text] of [['record', recordText], ['artifact', artifactText], ['Flink REST', flinkText]] as const) {
      assert.not.ok(text.includes(SECRET_V1), `the secret is in the ${where}`);
    }

    // An upgrade with a new secret runs with it and writes its own object; the old one stays for a rollback.
    const second = await deploy({
      target: withSettings(target, { region: 'eu-west' }), root: PROJECT, entry: 'settings-echo.ts', env: { FLINKFN_SECRET_API_TOKEN: SECRET_V2 },
    });
    assert.is(second.upgradedFrom, 1);
    await produce(target, 'settings-echo-in', [JSON.stringify({ n: 2 })]);
    assert.equal((await outputs(target, 3))[2], { n: 2, greeting: 'hello', region: 'eu-west', tokenLength: SECRET_V2.length, tokenSha256: sha256(SECRET_V2) });
    assert.ok(await store.exists(secretsKey(NAME, 2)));
    assert.ok(await store.exists(v1Object));
    assert.not.ok((await whatFlinkShows(target, second.jobId)).includes(SECRET_V2));

    // A rollback starts version 1 again: with version 1's settings and secret.
    await rollback({ target, name: NAME });
    await produce(target, 'settings-echo-in', [JSON.stringify({ n: 3 })]);
    assert.equal((await outputs(target, 4))[3], { n: 3, greeting: 'hi', region: 'eu-west', tokenLength: SECRET_V1.length, tokenSha256: sha256(SECRET_V1) });

    const destroyed = await destroy({ target, name: NAME });
    assert.ok(destroyed.items.some((item) => item.id === v1Object && item.action === 'delete'), JSON.stringify(destroyed.items));
    assert.not.ok(await store.exists(v1Object), 'version 1\'s secrets object is deleted');
    assert.not.ok(await store.exists(secretsKey(NAME, 2)), 'version 2\'s secrets object is deleted');
    assert.equal(await leftovers(target, NAME, TOPICS, { scoped: true }), []);
  } finally {
    store.close();
  }
});

test('a deploy killed right after writing the secrets object leaves it in the record, and destroy deletes it', async () => {
  const { env, target } = stack();
  const killed = await cli(['deploy', 'settings-echo.ts', '--root', PROJECT, '--set', 'region=us', '--json'],
    { ...env, FLINKFN_SECRET_API_TOKEN: SECRET_V1, FLINKFN_FAILPOINT: 'deploy:after-secrets' });
  assert.is(killed.signal, 'SIGKILL', killed.stderr);
  const store = new ObjectStore(target.s3);
  try {
    assert.ok(await store.exists(secretsKey(NAME, 1)), 'the object was written');
    const resource = (await Deployment.load(store, NAME))?.record.resources.find((r) => r.id === secretsKey(NAME, 1));
    assert.is(resource?.state, 'created');
    const cleaned = await cli(['destroy', NAME, '--json'], env);
    assert.is(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
    assert.not.ok(await store.exists(secretsKey(NAME, 1)));
  } finally {
    store.close();
  }
  assert.equal(await leftovers(target, NAME, TOPICS, { scoped: true }), []);
});

test.run();
