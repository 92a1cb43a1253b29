import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deploy, destroy, list, logs, rollback, status, tail } from '../src/index.js';
import { consume, leftovers, produce } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('upgrade and rollback on the real local stack');
const stack = useStack(test);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.join(HERE, '..', '.tmp-test', 'upgrade-counter');
const HOUR = 3_600_000;
const tick = (key: string, ts: number): string => JSON.stringify({ key, ts });

async function writeVersion(version: string): Promise<void> {
  const source = await readFile(path.join(HERE, 'fixtures', 'counter.ts'), 'utf8');
  await writeFile(path.join(PROJECT, 'counter.ts'), source.replace("const VERSION = 'v1';", `const VERSION = '${version}';`));
}

test.before(async () => {
  await rm(PROJECT, { recursive: true, force: true });
  await mkdir(PROJECT, { recursive: true });
});

test('an upgrade keeps window state: a count started by v1 continues in v2, and rollback returns to v1 with the state', async () => {
  const { target } = stack();
  await writeVersion('v1');
  const v1 = await deploy({ target, root: PROJECT, entry: 'counter.ts' });
  assert.is(v1.version, 1);

  // Three events for hour 0, then a malformed record: once its dead letter is committed, v1 has counted the three.
  await produce(target, 'upgrade-counter-in', [tick('a', 1_000), tick('a', 2_000), tick('a', 3_000), '{not json']);
  assert.is((await consume(target, 'upgrade-counter-dead-letter', 1)).length, 1);

  await writeVersion('v2');
  const v2 = await deploy({ target, root: PROJECT, entry: 'counter.ts' });
  assert.is(v2.version, 2);
  assert.is(v2.upgradedFrom, 1);
  assert.ok(v2.restoredFrom, 'v2 started from a savepoint');
  assert.is.not(v2.artifactId, v1.artifactId);

  // Two more for hour 0, then an event in hour 2 closes hour 0.
  await produce(target, 'upgrade-counter-in', [tick('a', 4_000), tick('a', 5_000), tick('a', 2 * HOUR)]);
  const afterUpgrade = (await consume(target, 'upgrade-counter-out', 1)).map((v) => JSON.parse(v) as { count: number; version: string });
  assert.equal(afterUpgrade, [{ key: 'a', start: 0, count: 5, version: 'v2' }]);

  const back = await rollback({ target, name: v1.name });
  assert.is(back.from, 2);
  assert.is(back.to, 1);
  const now = await status(target, v1.name);
  assert.is(now.version, 1);
  assert.is(now.artifactId, v1.artifactId);
  assert.is(now.jobState, 'RUNNING');

  // Hour 2 holds one event from before the rollback; one more, then hour 4 closes it under v1's code.
  await produce(target, 'upgrade-counter-in', [tick('a', 2 * HOUR + 1_000), tick('a', 4 * HOUR)]);
  const results = (await consume(target, 'upgrade-counter-out', 2)).map((v) => JSON.parse(v) as { count: number; version: string });
  assert.equal(results[1], { key: 'a', start: 2 * HOUR, count: 2, version: 'v1' });

  // Inspection: ls lists it, logs has no exceptions for a healthy job, tail reads the committed results.
  assert.equal((await list(target)).map((d) => [d.name, d.version, d.jobState]), [[v1.name, 1, 'RUNNING']]);
  assert.equal((await logs(target, v1.name)).exceptions, []);
  const tailed: string[] = [];
  await tail({ target, name: v1.name, fromBeginning: true, limit: 2, onRecord: (r) => tailed.push(r.value) });
  assert.equal(tailed.map((v) => (JSON.parse(v) as { version: string }).version), ['v2', 'v1']);

  await destroy({ target, name: v1.name });
  assert.equal(await leftovers(target, v1.name, ['upgrade-counter-in', 'upgrade-counter-out', 'upgrade-counter-dead-letter']), []);
});

test.run();
