/**
 * A conditional write that the store took but whose answer was lost (the S3 client retried after a timeout, and the
 * retry got 412). The detach that wrote `releasing` must still finish its own release and say so: it used to find
 * its own `releasing` lease, take it over, delete the topic and answer 'not attached', so the deletion went
 * uncounted — the attach/detach concurrency test's rare "one creation more than deletions". Likewise the attach
 * whose `creating` write was taken finishes the creation and answers that it created the resource.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KafkaAdmin, Leases, ObjectStore, type ResolvedTarget } from '../src/index.js';
import { useStack } from './support/stack.js';

const test = suite('a lease write whose acknowledgement was lost');
const stack = useStack(test);

/** The real store, except that the first write of a lease in `state` reports failure after it went through. */
class LostAcknowledgement extends ObjectStore {
  lost = 0;

  constructor(s3: ResolvedTarget['s3'], private readonly state: 'creating' | 'releasing') {
    super(s3);
  }

  override async putIfUnchanged(key: string, body: string, etag: string | null): Promise<string | null> {
    const written = await super.putIfUnchanged(key, body, etag);
    if (written && this.lost === 0 && JSON.parse(body).state === this.state) {
      this.lost++;
      return null;
    }
    return written;
  }
}

test('the last detach deletes the topic and answers "deleted" although its releasing write seemed to fail', async () => {
  const { target } = stack();
  const topic = `lost-ack-${Date.now()}`;
  const store = new LostAcknowledgement(target.s3, 'releasing');
  const admin = await KafkaAdmin.connect(target);
  const traces: string[] = [];
  const leases = new Leases(store, { exists: async (_kind, id) => admin.topicExists(id), remove: async (_kind, id) => void (await admin.deleteTopic(id)) }, (event) => traces.push(event));
  try {
    const { created } = await leases.attach({
      kind: 'kafka-topic', id: topic, deployment: 'only-one', role: 'source', lifecycle: 'ephemeral',
      create: async () => void (await admin.ensureTopics([{ topic, partitions: 1 }])),
    });
    assert.ok(created);
    const outcome = await leases.detach('kafka-topic', topic, 'only-one');
    assert.is(store.lost, 1, 'the releasing write lost its acknowledgement once');
    assert.is(outcome, 'deleted', `the detach answered ${outcome}; traces: ${traces.join('; ')}`);
    assert.is(await admin.topicExists(topic), false, 'the topic is gone');
    assert.is(await leases.read('kafka-topic', topic), null, 'and its lease');
  } finally {
    await admin.deleteTopic(topic).catch(() => false);
    await admin.disconnect();
    store.close();
  }
});

test('the first attach answers "created" although its creating write seemed to fail', async () => {
  const { target } = stack();
  const topic = `lost-ack-create-${Date.now()}`;
  const store = new LostAcknowledgement(target.s3, 'creating');
  const admin = await KafkaAdmin.connect(target);
  const leases = new Leases(store, { exists: async (_kind, id) => admin.topicExists(id), remove: async (_kind, id) => void (await admin.deleteTopic(id)) });
  try {
    const { created } = await leases.attach({
      kind: 'kafka-topic', id: topic, deployment: 'only-one', role: 'source', lifecycle: 'ephemeral',
      create: async () => void (await admin.ensureTopics([{ topic, partitions: 1 }])),
    });
    assert.is(store.lost, 1, 'the creating write lost its acknowledgement once');
    assert.ok(created, 'this attach created the topic');
    assert.ok(await admin.topicExists(topic));
    assert.is((await leases.read('kafka-topic', topic))?.lease.state, 'live');
    assert.is(await leases.detach('kafka-topic', topic, 'only-one'), 'deleted');
  } finally {
    await admin.deleteTopic(topic).catch(() => false);
    await admin.disconnect();
    store.close();
  }
});

test.run();
