import { defineFunction, retryable } from '@flinkfn/sdk';

/** Benchmark record: an order and when the generator made it (`t0`, epoch ms, for end-to-end latency). */
interface Order {
  id: number;
  user: string;
  t0: number;
}

/**
 * An enrichment call per event: GET the user from a loopback HTTP server that answers after 10 ms, 100 in flight —
 * the same as the Java variant with AsyncDataStream.orderedWait (AsyncEnrichmentBenchmark). The server's URL is a
 * setting: the benchmark starts bench/enrich-server on a free port and passes it to both variants.
 */
export default defineFunction({
  name: 'bench-async-enrichment',
  source: { topic: 'bench-orders' },
  sinks: { out: { topic: 'bench-enriched' } },
  settings: { enrichUrl: { description: 'base URL of the enrichment server' } },
  async: { capacity: 100, timeout: '30s', retry: { retries: 5, backoff: '10ms' } },
  handle: async (order: Order, ctx) => {
    let response: Response;
    try {
      response = await fetch(`${ctx.settings.enrichUrl}/users/${order.user}`);
    } catch (error) {
      throw retryable(error); // a reset connection: try again
    }
    const user = (await response.json()) as { name: string };
    return { ...order, name: user.name };
  },
});
