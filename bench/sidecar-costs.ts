/**
 * What the sidecar spends per item of each request type, in this process (no socket, no JVM): decode the request
 * frame, run the bench functions' user code through the host, encode the response. Separates the sidecar's own cost
 * from the pipeline's and shows which request type dominates a scenario.
 *
 *   node --import tsx bench/sidecar-costs.ts [--quick]
 */
import { fileURLToPath } from 'node:url';
import { FunctionHost } from '@flinkfn/host';
import { FrameSplitter, FrameWriter, MessageType, SidecarHandler, encodeRequest, encodeResponse, type Request } from '@flinkfn/sidecar';
import statelessMap from './functions/stateless-map.js';
import tumblingCount from './functions/tumbling-count.js';

export interface SidecarCost {
  id: string;
  title: string;
  /** Median over the rounds of nanoseconds per item (record, group or window). */
  nsPerItem: number;
}

const START = 1_700_000_000_000;
const order = (i: number): Buffer =>
  Buffer.from(JSON.stringify({ id: i, user: `u${i % 10_000}`, page: `/products/${i % 50}`, price: 12.5, qty: 1 + (i % 5), ts: START + i }));

function handlerFor(definition: typeof statelessMap | typeof tumblingCount): SidecarHandler {
  return new SidecarHandler(new FunctionHost(definition.declarations(), definition.spec), 'bench');
}

/** Median ns per item of handling `request` (one frame of `items` items) `rounds` times, after a warm-up. */
function measure(handler: SidecarHandler, request: Request, items: number, rounds: number): number {
  const frame = encodeRequest(request);
  const writer = new FrameWriter();
  const once = (): void => {
    const [split] = new FrameSplitter().push(frame);
    if (!split) throw new Error('no frame');
    // as the server does: PROCESS straight from the frame, the other requests decoded first
    const response = handler.handleFrame(split.type, split.id, split.body);
    if (!response || response.type === MessageType.ERROR) throw new Error(`request ${request.type} failed`);
    encodeResponse(response, writer);
  };
  for (let i = 0; i < rounds; i++) once();
  const samples: number[] = [];
  for (let batch = 0; batch < 5; batch++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) once();
    samples.push(Number(process.hrtime.bigint() - started) / (rounds * items));
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[2] as number);
}

export function sidecarCosts({ quick = false } = {}): SidecarCost[] {
  const rounds = quick ? 40 : 400;
  const stateless = handlerFor(statelessMap);
  const windowed = handlerFor(tumblingCount);
  const window = { start: START, end: START + 1000 };
  const records = (n: number) => Array.from({ length: n }, (_, i) => order(i));
  return [
    {
      id: 'process-stateless',
      title: 'PROCESS, stateless map (decode, handle, serialize the result), per record',
      nsPerItem: measure(stateless, { type: MessageType.PROCESS, id: 1, records: records(250) }, 250, rounds * 4),
    },
    {
      id: 'process-windowed',
      title: 'PROCESS, windowed function without handle (decode, key, timestamp; the record goes on as it came), per record',
      nsPerItem: measure(windowed, { type: MessageType.PROCESS, id: 2, records: records(250) }, 250, rounds * 4),
    },
    {
      id: 'aggregate',
      title: 'AGGREGATE, tumbling count, one event per window (create or parse the accumulator, add, serialize), per group',
      nsPerItem: measure(windowed, {
        type: MessageType.AGGREGATE,
        id: 3,
        groups: records(1000).map((event, i) => ({ key: `u${i}`, ...window, accumulator: i % 2 === 0 ? null : Buffer.from(String(i)), events: [event] })),
      }, 1000, rounds),
    },
    {
      id: 'fire',
      title: 'FIRE, tumbling count (parse the accumulator, result, serialize it), per window',
      nsPerItem: measure(windowed, {
        type: MessageType.FIRE,
        id: 4,
        fires: Array.from({ length: 1000 }, (_, i) => ({ key: `u${i}`, ...window, mode: 0 as const, accumulator: Buffer.from(String(i + 1)) })),
      }, 1000, rounds),
    },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const cost of sidecarCosts({ quick: process.argv.includes('--quick') })) {
    process.stdout.write(`${String(cost.nsPerItem).padStart(6)} ns  ${cost.title}\n`);
  }
}
