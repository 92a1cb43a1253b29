/**
 * A program that deploys a function in an `await using` scope, for the scope tests. MODE: `return` (the
 * block ends), `throw` (an error leaves the block and the program), `signal` (it waits until killed with
 * SIGTERM or SIGINT), `forget` (deployScoped without `using`: the end of the program releases it).
 * Env: FLINKFN_TEST_TARGET (a resolved target as JSON), ROOT, ENTRY, MODE. Prints READY once deployed.
 */
import { deployScoped, type ResolvedTarget } from '../../src/index.js';

const target = JSON.parse(process.env.FLINKFN_TEST_TARGET ?? '') as ResolvedTarget;
const options = { target, root: process.env.ROOT ?? '.', entry: process.env.ENTRY ?? '' };
const mode = process.env.MODE;

if (mode === 'forget') {
  await deployScoped(options);
  process.stdout.write('READY\n');
} else {
  await using fn = await deployScoped(options);
  process.stdout.write(`READY ${fn.name}\n`);
  if (mode === 'throw') throw new Error('the program failed inside the scope');
  if (mode === 'signal') await new Promise(() => setInterval(() => {}, 1_000));
}
