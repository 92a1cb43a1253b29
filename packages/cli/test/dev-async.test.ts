import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLoopbackServer } from '../../testing/test/support/loopback-server.js';
import { flinkfnAsync, project } from './helpers.js';

const devAsync = suite('flinkfn dev with an async handler');

devAsync('awaits handle: outputs are the events enriched from a loopback server, in input order; a hung request is a timeout dead letter', async () => {
  const server = await startLoopbackServer((request) => {
    const id = Number(request.query.get('id'));
    if (id === 13) return 'hang';
    // Later ids answer sooner: ordered output must not follow the answers.
    return new Promise((resolve) => setTimeout(() => resolve({ body: { square: id * id } }), (200 - id) % 7));
  });
  const handler = [
    "import { defineFunction } from '@flinkfn/sdk';",
    'export default defineFunction({',
    "  name: 'squares',",
    "  source: { topic: 'numbers' },",
    "  sinks: { out: { topic: 'squares' } },",
    "  async: { capacity: 8, timeout: '1s' },",
    '  handle: async (e: { id: number }, ctx) => {',
    `    const response = await fetch(\`${server.url}/square?id=\${e.id}\`, { signal: ctx.signal });`,
    '    return { id: e.id, ...(await response.json()) };',
    '  },',
    '});',
  ].join('\n');
  const { dir, cleanup } = project({ 'src/handler.ts': handler });
  try {
    const ids = Array.from({ length: 200 }, (_, i) => i);
    const run = await flinkfnAsync(['dev', '--root', dir, '--input', '-', '--json'], { input: ids.map((id) => JSON.stringify({ id })).join('\n') });
    assert.is(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const outputs = lines.filter((l) => l['type'] === 'output').map((l) => l['value']);
    assert.equal(outputs, ids.filter((id) => id !== 13).map((id) => ({ id, square: id * id })));
    assert.equal(lines.filter((l) => l['type'] === 'dead-letter').map((l) => [l['stage'], l['error'], l['event']]),
      [['handle', 'timed out after 1000 ms', { id: 13 }]]);
    // The timed-out request (13) may still count as open on the server when the request that took its slot arrives:
    // its close reaches the server on another connection (see startLoopbackServer).
    assert.ok(server.maxOpen <= 8 + 1, `at most capacity requests at once (+1 abandoned), saw ${server.maxOpen}`);
    assert.match(run.stderr, /squares: 200 records → 199 results, 0 late, 1 dead letters/);
  } finally {
    cleanup();
    await server.close();
  }
});

devAsync.run();
