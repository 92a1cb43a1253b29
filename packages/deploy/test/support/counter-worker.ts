/**
 * One process of the compare-and-swap test: ROUNDS times, read the counter document and write it back
 * incremented, conditional on its ETag, retrying on conflict. Prints how many increments it won.
 * Env: FLINKFN_TEST_TARGET (a resolved target as JSON), KEY, ROUNDS.
 */
import { ObjectStore, type ResolvedTarget } from '../../src/index.js';

const target = JSON.parse(process.env.FLINKFN_TEST_TARGET ?? '') as ResolvedTarget;
const key = process.env.KEY ?? '';
const rounds = Number(process.env.ROUNDS ?? '100');

const store = new ObjectStore(target.s3);
let won = 0;
while (won < rounds) {
  const current = await store.getVersioned(key);
  if (!current) throw new Error(`${key} is missing`);
  const { count } = JSON.parse(current.text) as { count: number };
  if (await store.putIfUnchanged(key, JSON.stringify({ count: count + 1 }), current.etag)) won++;
}
store.close();
process.stdout.write(JSON.stringify({ won }) + '\n');
