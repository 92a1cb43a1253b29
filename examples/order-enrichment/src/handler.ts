/**
 * Orders enriched with their customer: `handle` is async and calls a customer API over HTTP for every order.
 * Up to 100 orders are in flight per parallel instance; an order whose customer does not arrive within 10 s (retries
 * included) goes to the dead-letter topic, as does one whose customer does not exist; a busy API (503, 429) or a
 * failed connection is retried.
 * Orders of VIP customers go to their own sink. The API's address is the `customersUrl` setting (default the
 * example's own API on 127.0.0.1:8787): `flinkfn dev --set customersUrl=...`, `harness(fn, { settings })` in tests,
 * and `flinkfn deploy --set customersUrl=...` or the target's `settings` in flinkfn.config.json on Flink, where the
 * TaskManagers, not this machine, must reach it.
 */
import { defineFunction, retryable, to } from '@flinkfn/sdk';

export interface Order { orderId: number; customerId: string; cents: number; ts: number }
export interface Customer { id: string; name: string; tier: 'regular' | 'vip' }
export interface EnrichedOrder extends Order { customer: string; tier: Customer['tier'] }

export default defineFunction({
  name: 'order-enrichment',
  source: { topic: 'orders', create: true },
  sinks: {
    enriched: { topic: 'orders-enriched' },
    vip: { topic: 'orders-vip' },
  },
  settings: { customersUrl: { default: 'http://127.0.0.1:8787', description: 'base URL of the customer API' } },
  async: { capacity: 100, timeout: '10s', retry: { retries: 5, backoff: '100ms', maxBackoff: '2s' } },
  handle: async (order: Order, ctx) => {
    let response: Response;
    try {
      // ctx.signal is aborted when the timeout passes, so an abandoned request stops too.
      response = await fetch(`${ctx.settings.customersUrl}/customers/${encodeURIComponent(order.customerId)}`, { signal: ctx.signal });
    } catch (error) {
      throw retryable(error); // a refused or dropped connection: worth another try
    }
    if (response.status === 503 || response.status === 429) {
      throw retryable(new Error(`customer API busy (${response.status})`));
    }
    if (!response.ok) throw new Error(`customer ${order.customerId}: HTTP ${response.status}`);
    const customer = (await response.json()) as Customer;
    const enriched: EnrichedOrder = { ...order, customer: customer.name, tier: customer.tier };
    return customer.tier === 'vip' ? to('vip', enriched) : enriched;
  },
});
