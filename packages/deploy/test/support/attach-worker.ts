/**
 * One process of the attach/detach concurrency test: ROUNDS times, attach deployment WORKER to TOPIC (creating
 * it when missing), check the topic exists while attached, detach. Prints one JSON line with what it saw,
 * including the leases' traces of rare paths (takeovers, fenced releases) for a post-mortem.
 * Env: FLINKFN_TEST_TARGET (a resolved target as JSON), TOPIC, WORKER, ROUNDS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaAdmin, Leases, ObjectStore, type ResolvedTarget } from '../../src/index.js';

const target = JSON.parse(process.env.FLINKFN_TEST_TARGET ?? '') as ResolvedTarget;
const topic = process.env.TOPIC ?? '';
const worker = process.env.WORKER ?? '';
const rounds = Number(process.env.ROUNDS ?? '50');

const store = new ObjectStore(target.s3);
const admin = await KafkaAdmin.connect(target);
const traces: string[] = [];
const leases = new Leases(store, {
  exists: async (_kind, id) => admin.topicExists(id),
  remove: async (_kind, id) => void (await admin.deleteTopic(id)),
}, (event) => traces.push(`${new Date().toISOString()} ${worker}: ${event}`));

const seen = { rounds: 0, created: 0, deleted: 0, missingWhileAttached: 0, traces };
for (let round = 0; round < rounds; round++) {
  const { created } = await leases.attach({
    kind: 'kafka-topic', id: topic, deployment: worker, role: 'source', lifecycle: 'ephemeral',
    create: async () => void (await admin.ensureTopics([{ topic, partitions: 2 }])),
  });
  if (created) seen.created++;
  if (!(await admin.topicExists(topic))) seen.missingWhileAttached++;
  await sleep(Math.random() * 30);
  if (!(await admin.topicExists(topic))) seen.missingWhileAttached++;
  const outcome = await leases.detach('kafka-topic', topic, worker);
  if (outcome === 'deleted') seen.deleted++;
  seen.rounds++;
}
await admin.disconnect();
store.close();
process.stdout.write(JSON.stringify(seen) + '\n');
