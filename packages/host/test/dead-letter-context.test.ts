import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DeadLetter, DeadLetterSource } from '../src/index.js';

/**
 * The golden dead letter that the Flink job's DeadLetterContext (Java) must write: here it is checked against the
 * host's own definition of `source` and `at`, there the Java code is checked against the same file.
 */
const golden = JSON.parse(readFileSync(new URL('./golden/dead-letter-context.json', import.meta.url), 'utf8')) as {
  record: Extract<DeadLetterSource, { topic: string }>;
  nowMillis: number;
  host: string;
  written: string;
  windowHost: string;
  windowWritten: string;
};

const context = suite('dead letters as the Flink job writes them');

context('a record stage dead letter gets the Kafka record it came from and the time, as DeadLetter says', () => {
  const made = JSON.parse(golden.host) as DeadLetter;
  const expected: DeadLetter = { ...made, source: golden.record, at: new Date(golden.nowMillis).toISOString() };
  assert.equal(JSON.parse(golden.written), expected);
  // Appended after the host's members, in this order: the text Java writes is exactly this.
  assert.is(golden.written, JSON.stringify(expected));
});

context("a window stage dead letter gets the time only (its records crossed a shuffle without offsets)", () => {
  const made = JSON.parse(golden.windowHost) as DeadLetter;
  assert.ok(made.window !== undefined);
  assert.is(golden.windowWritten, JSON.stringify({ ...made, at: new Date(golden.nowMillis).toISOString() }));
});

context.run();
