/**
 * Handler log lines (src/log-lines.ts): the golden cases the Java side and `flinkfn logs` test too, and the real
 * sidecar process writing a handler's console output as such lines on stderr, never on stdout.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConsoleLevel } from '@flinkfn/host';
import { build } from '../../bundler/dist/index.js';
import { decodeHandlerLog, encodeHandlerLog, formatHandlerLogMessage, parseHandlerLogMessage, type HandlerLogMessage } from '../src/log-lines.js';
import { MessageType, PROTOCOL_VERSION } from '../src/protocol.js';
import { PACKAGE_ROOT, TestClient, json, startSidecar } from './helpers.js';

interface Golden {
  encode: Array<{ name: string; level: ConsoleLevel; text: string; lines: string[] }>;
  decode: Array<{ name: string; line: string; parsed: { level: ConsoleLevel; text: string; javaLevel: string } | null }>;
  messages: Array<HandlerLogMessage & { name: string; message: string }>;
  taskManagerLines: Array<{ name: string; line: string; parsed: HandlerLogMessage | null }>;
}
const golden = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'test', 'golden', 'log-lines.json'), 'utf8')) as Golden;

const lines = suite('handler log lines');

lines('the golden cases encode, decode and parse as the Java side and flinkfn logs expect', () => {
  for (const c of golden.encode) assert.equal(encodeHandlerLog(c.level, c.text), c.lines, c.name);
  for (const c of golden.decode) {
    const decoded = decodeHandlerLog(c.line);
    assert.equal(decoded, c.parsed === null ? null : { level: c.parsed.level, text: c.parsed.text }, c.name);
  }
  for (const c of golden.messages) {
    const { name, message, ...fields } = c;
    assert.is(formatHandlerLogMessage(fields), message, name);
    assert.equal(parseHandlerLogMessage(message), fields, name);
  }
  for (const c of golden.taskManagerLines) assert.equal(parseHandlerLogMessage(c.line), c.parsed, c.name);
  // Every encoded line decodes back to its line of the text.
  for (const c of golden.encode) {
    assert.equal(c.lines.map((l) => decodeHandlerLog(l)?.text), c.text.split(/\r?\n/), c.name);
  }
});

lines('the sidecar writes the handler\'s console output as handler log lines on stderr and nothing of it on stdout', async () => {
  const root = path.join(PACKAGE_ROOT, '.tmp-test', 'console-handler');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(path.join(root, 'src'), { recursive: true });
  writeFileSync(path.join(root, 'src', 'handler.ts'), [
    "import { defineFunction } from '@flinkfn/sdk';",
    "console.info('loading');",
    'export default defineFunction({',
    "  name: 'chatty',",
    "  source: { topic: 'in' },",
    "  sinks: { out: { topic: 'out' } },",
    '  handle: (e: { n: number }) => {',
    "    console.log('event %d', e.n, { n: e.n });",
    "    console.warn(`careful\\nsecond line ${e.n}`);",
    "    console.error(new Error('boom ' + e.n).message);",
    '    return e;',
    '  },',
    '});',
    '',
  ].join('\n'));
  try {
    const built = await build({ root, entry: 'src/handler.ts' });
    const running = await startSidecar(built.file);
    try {
      const client = await TestClient.connect(running.socketPath);
      await client.send({ type: MessageType.HELLO, id: 1, protocolVersion: PROTOCOL_VERSION, artifactId: built.id, settings: {} });
      const processed = await client.send({ type: MessageType.PROCESS, id: 2, records: [json({ n: 1 }), json({ n: 2 })] });
      assert.is(processed.type, MessageType.PROCESSED);
      client.close();
      const expected = [
        'flinkfn-handler-log info loading',
        'flinkfn-handler-log log event 1 { n: 1 }',
        'flinkfn-handler-log warn careful',
        'flinkfn-handler-log warn second line 1',
        'flinkfn-handler-log error boom 1',
        'flinkfn-handler-log log event 2 { n: 2 }',
        'flinkfn-handler-log warn careful',
        'flinkfn-handler-log warn second line 2',
        'flinkfn-handler-log error boom 2',
      ];
      // stderr is a separate pipe from the socket: wait (generously) until the last line has arrived.
      const logged = (): string[] => running.stderr().split('\n').filter((l) => l.startsWith('flinkfn-handler-log '));
      for (const deadline = Date.now() + 60_000; logged().length < expected.length && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
      assert.equal(logged(), expected);
      assert.is(running.stdout(), `READY ${running.socketPath}\n`, 'stdout carries only READY');
    } finally {
      await running.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

lines.run();
