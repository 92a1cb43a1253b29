/**
 * A customer API for trying the example: `pnpm customers` serves `GET /customers/<id>` on 127.0.0.1:8787 (or
 * `PORT`; 0 picks a free one; give the function its address with the `customersUrl` setting), answering after `DELAY_MS` (default 10). Customer ids are `c<n>`; every seventh is a VIP, `c0` does not
 * exist (404).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Customer } from './handler.js';

/** The customer with this id, or undefined: the rule the tests compute their expectations with. */
export function customer(id: string): Customer | undefined {
  const n = /^c(\d+)$/.exec(id)?.[1];
  if (n === undefined || Number(n) === 0) return undefined;
  return { id, name: `Customer ${n}`, tier: Number(n) % 7 === 0 ? 'vip' : 'regular' };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const delay = Number(process.env['DELAY_MS'] ?? 10);
  const port = Number(process.env['PORT'] ?? 8787);
  const server = http.createServer((req, res) => {
    const found = customer(decodeURIComponent((req.url ?? '').replace(/^\/customers\//, '')));
    setTimeout(() => {
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(found ?? { error: 'no such customer' }));
    }, delay);
  });
  // PORT=0 picks a free port; the line says which.
  server.listen(port, '127.0.0.1', () => process.stdout.write(`customers on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
}
