import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineFunction, eventTime, retryable, to, tumbling, type AsyncDeclaration, type HandleContext } from '@flinkfn/sdk';
import { harness } from '../src/index.js';
import { gate, startLoopbackServer, type LoopbackServer, type Reply, type Request } from './support/loopback-server.js';

interface Order { id: number; customer: string; ts: number }
interface Enriched extends Order { name: string }

/** A function that enriches each order with the customer's name from `server`. */
function enrich(server: () => LoopbackServer, async: AsyncDeclaration = {}) {
  return defineFunction({
    name: 'enrich',
    source: { topic: 'orders' },
    sinks: { enriched: { topic: 'enriched' }, vip: { topic: 'vip' } },
    async,
    handle: async (order: Order, ctx: HandleContext) => {
      const response = await fetch(`${server().url}/customers/${order.customer}?id=${order.id}&attempt=${ctx.attempt}`, { signal: ctx.signal });
      if (response.status === 503) throw retryable(new Error(`customer service busy (attempt ${ctx.attempt})`));
      if (!response.ok) throw new Error(`customer service answered ${response.status}`);
      const { name } = (await response.json()) as { name: string };
      const enriched: Enriched = { ...order, name };
      return name === 'VIP' ? to('vip', enriched) : enriched;
    },
  });
}

const orders = (n: number): Order[] => Array.from({ length: n }, (_, i) => ({ id: i, customer: `c${i % 3}`, ts: i * 1000 }));
const named = (order: Order): Enriched => ({ ...order, name: order.customer.toUpperCase() });
const nameOf = (request: Request): Reply => ({ body: { name: request.path.split('/')[2]!.toUpperCase() } });

const ordering = suite('async handle: ordered and unordered results');
let server: LoopbackServer;
ordering.after.each(async () => server?.close());

ordering('ordered (the default): results leave in input order although the server answers in reverse order', async () => {
  const n = 8;
  // Request i is answered only after request i+1 was: the last order's answer comes first.
  const answered = Array.from({ length: n + 1 }, () => gate());
  answered[n]!.open();
  server = await startLoopbackServer(async (request) => {
    const id = Number(request.query.get('id'));
    await answered[id + 1]!.opened;
    setImmediate(() => answered[id]!.open());
    return nameOf(request);
  });
  const h = harness(enrich(() => server));
  h.push(...orders(n));
  assert.is(h.inFlight, n);
  assert.throws(() => h.outputs(), /8 events are still in flight.*await h.settled\(\)/);
  await h.finish().settled();
  assert.equal(h.outputs(), orders(n).map(named));
  assert.is(server.maxOpen, n, 'every order was in flight at once (capacity 100)');
});

ordering('unordered: a slow answer does not hold back the others, and the results are exactly the inputs enriched', async () => {
  const n = 6;
  const othersAnswered = gate();
  let answered = 0;
  server = await startLoopbackServer(async (request) => {
    if (request.query.get('id') === '0') await othersAnswered.opened;
    else if (++answered === n - 1) setImmediate(othersAnswered.open);
    return nameOf(request);
  });
  const h = harness(enrich(() => server, { ordered: false }));
  await h.push(...orders(n)).finish().settled();
  const outputs = h.outputs() as Enriched[];
  assert.equal(outputs.at(-1), named(orders(n)[0]!), 'the order the server held back comes last');
  assert.equal([...outputs].sort((a, b) => a.id - b.id), orders(n).map(named));
});

ordering('unordered: results never cross a watermark, and windows see what a synchronous handler gives them', async () => {
  const hold = gate();
  server = await startLoopbackServer(async (request) => {
    // Before the watermark, order 1 waits until an order after it was requested: it completes after order 3 would.
    if (request.query.get('id') === '1') await hold.opened;
    if (request.query.get('id') === '3') setImmediate(hold.open);
    return nameOf(request);
  });
  const counted = defineFunction({
    name: 'per-customer',
    source: { topic: 'orders' },
    sinks: { counts: { topic: 'counts' } },
    async: { ordered: false },
    handle: async (order: Order, ctx: HandleContext) => {
      const response = await fetch(`${server.url}/customers/${order.customer}?id=${order.id}`, { signal: ctx.signal });
      return { ...order, name: ((await response.json()) as { name: string }).name };
    },
    key: (order: Enriched) => order.name,
    time: eventTime({ timestamp: (order: Enriched) => order.ts }),
    window: tumbling('10s'),
    aggregate: { create: () => [] as number[], add: (ids: number[], order: Enriched) => [...ids, order.id], result: (ids, { key, window }) => ({ key, start: window.start, ids }) },
  });
  const h = harness(counted);
  const early = [{ id: 0, customer: 'a', ts: 1_000 }, { id: 1, customer: 'a', ts: 2_000 }, { id: 2, customer: 'b', ts: 3_000 }];
  const late = [{ id: 3, customer: 'a', ts: 11_000 }, { id: 4, customer: 'a', ts: 12_000 }];
  h.push(...early).watermark(9_999).push(...late);
  await h.finish().settled();
  // Order 1 came back after order 3 was requested, but still before the watermark that closes the first window.
  const results = h.outputs() as Array<{ key: string; start: number; ids: number[] }>;
  const first = results.filter((r) => r.start === 0).sort((a, b) => a.key.localeCompare(b.key));
  assert.equal(first.map((r) => [r.key, [...r.ids].sort()]), [['A', [0, 1]], ['B', [2]]]);
  assert.equal(results.filter((r) => r.start === 10_000).map((r) => [r.key, [...r.ids].sort()]), [['A', [3, 4]]]);
  assert.equal(h.late, []);
});

ordering('capacity: no more requests are open at once than declared, and every order is answered', async () => {
  const capacity = 3;
  let open: Array<() => void> = [];
  server = await startLoopbackServer(async (request) => {
    // Hold requests until `capacity` are open: with a larger capacity more would arrive; with a smaller one, none
    // would ever be answered.
    const released = gate();
    open.push(released.open);
    if (open.length === capacity) {
      const batch = open;
      open = [];
      for (const release of batch) release();
    }
    await released.opened;
    return nameOf(request);
  });
  const h = harness(enrich(() => server, { capacity }));
  h.push(...orders(9));
  assert.is(h.inFlight, 9);
  await h.finish().settled();
  assert.equal(h.outputs(), orders(9).map(named));
  assert.is(server.maxOpen, capacity);
  assert.is(server.requests, 9);
});

ordering('routing: an async handle may resolve to to(sink, value), and to() may carry a Promise', async () => {
  server = await startLoopbackServer((request) => ({ body: { name: request.path.endsWith('/c1') ? 'VIP' : 'regular' } }));
  const h = harness(enrich(() => server));
  await h.push(...orders(3)).finish().settled();
  assert.equal(h.outputs('vip'), [{ ...orders(3)[1], name: 'VIP' }]);
  assert.equal(h.outputs('enriched').length, 2);

  const promised = harness(defineFunction<Order, { routed: number } | { plain: number }, unknown, unknown>({
    name: 'promised',
    source: { topic: 'orders' },
    sinks: { main: { topic: 'main' }, other: { topic: 'other' } },
    handle: (order: Order) => [to('other', Promise.resolve({ routed: order.id })), Promise.resolve({ plain: order.id })],
  }));
  await promised.push({ id: 7, customer: 'c', ts: 0 }).settled();
  assert.equal(promised.outputs('other'), [{ routed: 7 }]);
  assert.equal(promised.outputs('main'), [{ plain: 7 }]);
});

ordering.run();

const failures = suite('async handle: failures, retries and timeouts become dead letters');
let failing: LoopbackServer;
failures.after.each(async () => failing?.close());

failures('an error that is not marked retryable is a dead letter at once; the other events go on', async () => {
  failing = await startLoopbackServer((request) => request.query.get('id') === '1' ? { status: 500, body: 'boom' } : nameOf(request));
  const h = harness(enrich(() => failing, { retry: { retries: 3, backoff: '1ms' } }));
  await h.push(...orders(3)).finish().settled();
  assert.equal(h.outputs(), [named(orders(3)[0]!), named(orders(3)[2]!)]);
  assert.equal(h.deadLetters, [{ stage: 'handle', error: 'Error: customer service answered 500', event: orders(3)[1] }]);
  assert.is(failing.requests, 3, 'no retry');
});

failures('a retryable error is retried with backoff until it succeeds, or until the retries are used up', async () => {
  failing = await startLoopbackServer((request) => {
    const id = Number(request.query.get('id'));
    const attempt = Number(request.query.get('attempt'));
    // Order 0 succeeds at the third attempt, order 1 never does.
    if ((id === 0 && attempt < 3) || id === 1) return { status: 503, body: 'busy' };
    return nameOf(request);
  });
  const h = harness(enrich(() => failing, { retry: { retries: 2, backoff: '5ms', maxBackoff: '20ms' } }));
  await h.push(...orders(3)).finish().settled();
  assert.equal(h.outputs(), [named(orders(3)[0]!), named(orders(3)[2]!)]);
  assert.equal(h.deadLetters, [{
    stage: 'handle',
    error: 'Error: customer service busy (attempt 3) (retries used up: 3 attempts)',
    event: orders(3)[1],
  }]);
  assert.is(failing.requests, 3 + 3 + 1);
});

failures('a server that stops answering: the event times out (its request is aborted) and the function keeps running', async () => {
  failing = await startLoopbackServer((request) => (request.query.get('id') === '1' ? 'hang' : nameOf(request)));
  const h = harness(enrich(() => failing, { timeout: '300ms' }));
  await h.push(...orders(4)).finish().settled();
  assert.equal(h.outputs(), [0, 2, 3].map((i) => named(orders(4)[i]!)));
  assert.equal(h.deadLetters, [{ stage: 'handle', error: 'timed out after 300 ms', event: orders(4)[1] }]);
  // ctx.signal was aborted: fetch gave up its connection, so the server has nothing open any more.
  for (let waited = 0; failing.open > 0 && waited < 60_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  assert.is(failing.open, 0);
});

failures('the timeout covers all attempts: a retry that would end after it times the event out', async () => {
  failing = await startLoopbackServer(() => ({ status: 503, body: 'busy' }));
  const h = harness(enrich(() => failing, { timeout: '200ms', retry: { retries: 10, backoff: '250ms' } }));
  await h.push(orders(1)[0]).finish().settled();
  assert.is(h.deadLetters.length, 1);
  assert.match(h.deadLetters[0]!.error, /^timed out after 200 ms, waiting to retry Error: customer service busy \(attempt 1\)$/);
  assert.is(failing.requests, 1);
});

failures.run();

const notAsync = suite('window callbacks must not return a Promise');

const windowed = {
  name: 'w',
  source: { topic: 'in' },
  sinks: { out: { topic: 'out' } },
  key: (e: { k: string }) => e.k,
  time: eventTime({ timestamp: (e: { ts: number }) => e.ts }),
  window: tumbling('1s'),
  aggregate: { create: () => 0, add: (n: number) => n + 1, result: (n: number) => n },
};

const promiseCases: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['key', { key: async (e: { k: string }) => e.k }, 'key', /^key\(\) returned a Promise; only handle may be async/],
  ['timestamp', { time: eventTime({ timestamp: (async (e: { ts: number }) => e.ts) as never }) }, 'timestamp', /^time\.timestamp\(\) returned a Promise/],
  ['aggregate.create', { aggregate: { ...windowed.aggregate, create: async () => 0 } }, 'create', /^aggregate\.create\(\) returned a Promise/],
  ['aggregate.add', { aggregate: { ...windowed.aggregate, add: async (n: number) => n + 1 } }, 'add', /^aggregate\.add\(\) returned a Promise/],
  ['aggregate.result', { aggregate: { ...windowed.aggregate, result: async (n: number) => n } }, 'result', /^aggregate\.result\(\) returned a Promise/],
  ['process', { aggregate: undefined, process: async (events: unknown[]) => events.length }, 'process', /^process\(\) returned a Promise/],
];

for (const [callback, override, stage, message] of promiseCases) {
  notAsync(`${callback}: a dead letter at the first event names the callback, never a silent {}`, async () => {
    const h = harness(defineFunction({ ...windowed, ...override } as never));
    await h.push({ k: 'a', ts: 100 }).finish().settled();
    assert.ok(h.deadLetters.length >= 1, `no dead letter for ${callback}`);
    assert.is(h.deadLetters[0]!.stage, stage);
    assert.match(h.deadLetters[0]!.error, message);
    assert.match(h.deadLetters[0]!.error, /do the asynchronous work in handle/);
    assert.equal(h.records, []);
  });
}

notAsync.run();
