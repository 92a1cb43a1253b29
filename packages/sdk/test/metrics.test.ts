import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DeclarationError, METRIC_NAME_PATTERN, checkMetricName } from '../src/index.js';

const names = suite('metric names');

names('letters, digits, _ and -, starting with a letter, up to 64 characters', () => {
  for (const good of ['orders', 'queue-depth', 'basket_size', 'p99', 'a'.repeat(64)]) checkMetricName('counter', good);
  for (const bad of ['', '1st', '-x', 'orders.total', 'with space', 'ünïcode', 'a'.repeat(65)]) {
    assert.throws(() => checkMetricName('gauge', bad), (e: unknown) => e instanceof DeclarationError && e.path === 'metrics.gauge', bad);
  }
  assert.throws(() => checkMetricName('histogram', 42 as unknown as string), /42 is not a valid metric name/);
});

names('the hint suggests a valid name', () => {
  try {
    checkMetricName('counter', 'orders.total');
    assert.unreachable();
  } catch (error) {
    assert.ok(error instanceof DeclarationError);
    assert.match(error.hint, /'orders-total'/);
    assert.ok(METRIC_NAME_PATTERN.test('orders-total'));
  }
});

names.run();
