import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RULES, buildCase, differences, loadCases, runOnEngine } from '../src/index.js';

const cases = loadCases();

const coverage = suite('conformance cases');

coverage('there are at least 30 cases', () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases`);
});

coverage('every rule is exercised by at least one case, and every case names known rules', () => {
  const used = new Set(cases.flatMap((c) => c.rules));
  const uncovered = Object.keys(RULES).filter((rule) => !used.has(rule));
  assert.equal(uncovered, [], `rules without a case: ${uncovered.join(', ')}`);
  for (const c of cases) {
    for (const rule of c.rules) assert.ok(rule in RULES, `${c.id} names unknown rule ${rule}`);
  }
});

coverage.run();

const engine = suite('the embedded engine');

for (const testCase of cases) {
  engine(`${testCase.id}: ${testCase.description}`, async () => {
    const artifact = await buildCase(testCase);
    const problems = differences(testCase, await runOnEngine(testCase, artifact));
    assert.equal(problems, [], problems.join('\n'));
  });
}

engine.run();
