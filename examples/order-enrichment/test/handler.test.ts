import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from '@flinkfn/testing';
import { customer } from '../src/customers.js';
import type { EnrichedOrder, Order } from '../src/handler.js';

// The customer API on loopback: every first request for c3 answers 503 (busy), c0 is unknown (404).
let busyOnce = true;
const server = http.createServer((req, res) => {
  const id = decodeURIComponent((req.url ?? '').replace(/^\/customers\//, ''));
  if (id === 'c3' && busyOnce) {
    busyOnce = false;
    res.writeHead(503).end();
    return;
  }
  const found = customer(id);
  setTimeout(() => res.writeHead(found ? 200 : 404).end(JSON.stringify(found ?? {})), Number(id.slice(1)) % 5);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const customersUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const { default: enrichment } = await import('../src/handler.js');

const orders = readFileSync(new URL('../data/events.jsonl', import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Order);

/** What the function must produce, computed from the customer rule alone. */
function expected(tier: 'regular' | 'vip'): EnrichedOrder[] {
  return orders.flatMap((o) => {
    const c = customer(o.customerId);
    return c && c.tier === tier ? [{ ...o, customer: c.name, tier: c.tier }] : [];
  });
}

const enrich = suite('order enrichment');
enrich.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

enrich('every order is enriched in input order; VIPs go to their sink; an unknown customer is a dead letter; a busy API is retried', async () => {
  const h = harness(enrichment, { settings: { customersUrl } });
  await h.push(...orders).finish().settled();
  assert.equal(h.outputs('enriched'), expected('regular'));
  assert.equal(h.outputs('vip'), expected('vip'));
  assert.ok(expected('vip').length > 0);
  const unknown = orders.filter((o) => customer(o.customerId) === undefined);
  assert.ok(unknown.length > 0);
  assert.equal(h.deadLetters, unknown.map((o) => ({ stage: 'handle', error: 'Error: customer c0: HTTP 404', event: o })));
  assert.is(busyOnce, false, 'the 503 was answered and retried');
});

enrich.run();
