import { defineFunction } from '@flinkfn/sdk';

/** The trivial function for measuring the sidecar protocol alone. */
export default defineFunction({
  name: 'bench-identity',
  source: { topic: 'bench-orders' },
  sinks: { out: { topic: 'bench-identity' } },
  handle: (event: unknown) => event,
});
