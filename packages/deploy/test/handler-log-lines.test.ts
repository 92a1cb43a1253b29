/**
 * How `flinkfn logs` reads a TaskManager log line: the golden lines of the handler log contract
 * (packages/sidecar/test/golden/log-lines.json), in Flink's default layout and the local stack's, with their time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTaskManagerLine } from '../src/index.js';

const GOLDEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'sidecar', 'test', 'golden', 'log-lines.json');
const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as {
  taskManagerLines: Array<{ name: string; line: string; parsed: { jobId: string; function: string; level: string; text: string } | null }>;
};

const test = suite('TaskManager log lines as handler log entries');

test('the golden lines parse with their time as the log writes it, other lines not at all', () => {
  assert.ok(golden.taskManagerLines.length >= 4);
  for (const c of golden.taskManagerLines) {
    const entry = parseTaskManagerLine(c.line, 'tm-1');
    if (c.parsed === null) {
      assert.is(entry, null, c.name);
      continue;
    }
    assert.equal(entry, { at: /^(\S+ )?\d{2}:\d{2}:\d{2},\d{3}/.exec(c.line)?.[0] ?? null, taskManager: 'tm-1', ...c.parsed }, c.name);
  }
  assert.is(parseTaskManagerLine(golden.taskManagerLines[0]!.line, 'tm')?.at, '2026-12-03 10:00:00,123', "Flink's default layout");
  assert.is(parseTaskManagerLine(golden.taskManagerLines[1]!.line, 'tm')?.at, '10:00:00,123', "the local stack's layout");
});

test.run();
