/** Writes data/events.jsonl: `COUNT` orders (default 200) of customers c0 … c49, one a second. */
import { writeFileSync } from 'node:fs';

const count = Number(process.env['COUNT'] ?? 200);
const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ orderId: i + 1, customerId: `c${(i * 7 + 3) % 50}`, cents: 500 + ((i * 131) % 9_500), ts: 1_700_000_000_000 + i * 1_000 }));
writeFileSync(new URL('../data/events.jsonl', import.meta.url), `${lines.join('\n')}\n`);
