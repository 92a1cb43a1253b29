import { defineFunction, retryable } from '@flinkfn/sdk';

/** Benchmark record: an order and when the generator made it (`t0`, epoch ms, for end-to-end latency). */
interface Order {
  id: number;
  user: string;
  t0: number;
}

const ENRICH_URL = process.env['ENRICH_URL'] ?? 'http://127.0.0.1:8787';

/**
 * An enrichment call per event: GET the user from a loopback HTTP server that answers after 10 ms, 100 in flight —
 * the same as the Java variant with AsyncDataStream.orderedWait (AsyncEnrichmentBenchmark).
 */
export default defineFunction({
  name: 'bench-async-enrichment',
  source: { topic: 'bench-orders' },
  sinks: { out: { topic: 'bench-enriched' } },
  async: { capacity: 100, timeout: '30s', retry: { retries: 5, backoff: '10ms' } },
  handle: async (order: Order) => {
    let response: Response;
    try {
      response = await fetch(`${ENRICH_URL}/users/${order.user}`);
    } catch (error) {
      throw retryable(error); // a reset connection (the JDK's HttpServer drops a few under load): try again
    }
    const user = (await response.json()) as { name: string };
    return { ...order, name: user.name };
  },
});
