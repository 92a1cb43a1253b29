import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from '@flinkfn/testing';
import enrich, { type Order } from '../src/handler.js';

/** 2024-01-15T09:00:00.000Z */
const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const order = (orderId: string, amount: number, currency: string, extra: Partial<Order> = {}): Order => ({
  orderId,
  customer: 'ann',
  amount,
  currency,
  ts: T0,
  ...extra,
});

test('enriches each valid order with its amount in US dollars and a size, in input order', () => {
  const h = harness(enrich);
  h.push(order('o-1', 100, 'EUR'), order('o-2', 150_000, 'JPY'), order('o-3', 19.99, 'USD'));
  assert.equal(h.outputs(), [
    { orderId: 'o-1', customer: 'ann', amount: 100, currency: 'EUR', ts: T0, amountUsd: 110, size: 'small' },
    { orderId: 'o-2', customer: 'ann', amount: 150_000, currency: 'JPY', ts: T0, amountUsd: 1_020, size: 'large' },
    { orderId: 'o-3', customer: 'ann', amount: 19.99, currency: 'USD', ts: T0, amountUsd: 19.99, size: 'small' },
  ]);
  assert.equal(h.deadLetters, []);
});

test('drops test orders without a trace', () => {
  const h = harness(enrich);
  h.push(order('o-1', 100, 'USD', { test: true }), order('o-2', 1_000, 'GBP'));
  assert.equal(h.outputs().map((o) => (o as { orderId: string }).orderId), ['o-2']);
  assert.equal(h.deadLetters, []);
});

test('sends an order with an unknown currency or a non-positive amount to the dead-letter output, with the reason', () => {
  const h = harness(enrich);
  h.push(order('o-1', 100, 'XYZ'), order('o-2', -5, 'EUR'), order('o-3', 10, 'GBP'));
  assert.equal(h.deadLetters, [
    { stage: 'handle', error: 'Error: order o-1: unknown currency "XYZ"', event: order('o-1', 100, 'XYZ') },
    { stage: 'handle', error: 'Error: order o-2: amount must be a positive number, got -5', event: order('o-2', -5, 'EUR') },
  ]);
  assert.equal(h.outputs().map((o) => (o as { amountUsd: number }).amountUsd), [12.5], 'the next order still goes through');
});

test('a record that is not JSON goes to the dead-letter output as raw text', () => {
  const h = harness(enrich);
  h.pushRaw('{"orderId":"o-1","customer":"ann","amount":40,', `{"orderId":"o-2","customer":"bob","amount":40,"currency":"USD","ts":${T0}}`);
  assert.is(h.deadLetters.length, 1);
  assert.is(h.deadLetters[0]?.stage, 'decode');
  assert.is(h.deadLetters[0]?.raw, '{"orderId":"o-1","customer":"ann","amount":40,');
  assert.is(h.outputs().length, 1);
});

test.run();
