/**
 * Deployments scoped to a program (`await using fn = await deployScoped(...)`): released when the block ends,
 * when an error leaves it, when the program gets SIGTERM or SIGINT, and at the end of a program that forgot
 * to close the scope. Real processes against the real local stack.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeRelay } from './support/functions.js';
import { leftovers, topicExists } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('scoped deployments');
const stack = useStack(test);
const PROGRAM = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'scoped-run.ts');

function run(env: Record<string, string>, signal?: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PROGRAM], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (signal && stdout.includes('READY')) child.kill(signal);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const [mode, signal, code] of [['return', undefined, 0], ['throw', undefined, 1], ['signal', 'SIGTERM', 143], ['signal', 'SIGINT', 130], ['forget', undefined, 0]] as const) {
  test(`${mode}${signal ? ` (${signal})` : ''}: everything the scope deployed is gone when the program ends`, async () => {
    const { target } = stack();
    const name = `scoped-${mode}${signal ? `-${signal.toLowerCase()}` : ''}`;
    const fn = await writeRelay({ name, source: `${name}-in`, sink: `${name}-out`, createSource: 1 });
    const result = await run({ FLINKFN_TEST_TARGET: JSON.stringify(target), ROOT: fn.root, ENTRY: fn.entry, MODE: mode }, signal);
    assert.ok(result.stdout.includes('READY'), `it deployed: ${result.stderr}`);
    assert.is(result.code, code, result.stderr);
    assert.equal(await leftovers(target, name, [`${name}-in`, `${name}-out`, `${name}-dead-letter`], { scoped: true }), []);
    assert.not.ok(await topicExists(target, `${name}-out`));
  });
}

test.run();
