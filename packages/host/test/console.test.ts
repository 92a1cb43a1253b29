import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CONSOLE_LEVELS, redirectConsole, type ConsoleLevel } from '../src/console.js';

const test = suite('redirectConsole');

test('every console method goes to the sink as console would format it, until restored', () => {
  const original = CONSOLE_LEVELS.map((level) => console[level]);
  const seen: Array<[ConsoleLevel, string]> = [];
  const restore = redirectConsole((level, text) => seen.push([level, text]));
  try {
    console.log('a %s %d', 'b', 3, { c: [1] });
    console.info('info');
    console.debug('debug');
    console.warn('warn', new Error('boom').message);
    console.error('two\nlines');
    const log = console.log;
    log('detached');
    console.trace('here %d', 7);
  } finally {
    restore();
  }
  assert.equal(seen.slice(0, 6), [
    ['log', 'a b 3 { c: [ 1 ] }'],
    ['info', 'info'],
    ['debug', 'debug'],
    ['warn', 'warn boom'],
    ['error', 'two\nlines'],
    ['log', 'detached'],
  ]);
  const [level, trace] = seen[6] ?? [];
  assert.is(level, 'trace');
  assert.match(trace ?? '', /^Trace: here 7\n {4}at .*console\.test\.ts/, 'the message and the caller\'s stack, not redirectConsole\'s');
  assert.equal(CONSOLE_LEVELS.map((l) => console[l]), original, 'the previous methods are back');
});

test.run();
