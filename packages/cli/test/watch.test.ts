import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, handler, project } from './helpers.js';

const watch = suite('flinkfn dev --watch');

watch('re-runs the input when the handler changes, with the new code', async () => {
  const { dir, cleanup } = project({
    'src/handler.ts': handler(),
    'events.jsonl': '{"k":"a","ts":1000}\n{"k":"a","ts":2000}\n',
  });
  const child = spawn(process.execPath, [CLI, 'dev', '--root', dir, '--input', 'events.jsonl', '--watch', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let stdout = '';
    let stderr = '';
    const armed = new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/watching /.test(stderr)) resolve();
      }),
    );
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const waitFor = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!pattern.test(stdout)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; stdout:\n${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waitFor(/"type":"output","sink":"counts","key":"a","value":2/);
    await armed;
    // Count double: the re-run must show the edited code's result.
    writeFileSync(path.join(dir, 'src', 'handler.ts'), handler().replace('add: (n: number) => n + 1', 'add: (n: number) => n + 2'));
    await waitFor(/"type":"output","sink":"counts","key":"a","value":4/);
    await waitFor(/"type":"summary"[\s\S]*"type":"summary"/);
    assert.is(stdout.match(/"type":"output"/g)?.length, 2, 'one result per run');
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    cleanup();
  }
});

watch.run();
