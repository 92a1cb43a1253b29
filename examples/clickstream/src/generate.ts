/**
 * Deterministic sample clicks for the page-views function, as JSON lines in delivery order:
 *
 *   tsx src/generate.ts --count 1000 --seed 7 > clicks.jsonl
 *
 * Thirty users browse six pages, a few clicks a second. Delivery is shuffled by up to 3 s (inside the
 * 5 s out-of-orderness bound), about 2 % of clicks are from a crawler (`bot: true`, filtered out),
 * about 1 % arrive 10-25 s after their minute ended (within the 30 s allowed lateness: the minute fires
 * again), about 0.5 % arrive more than a minute late (late topic), and about 0.5 % are truncated lines
 * (dead letters).
 */
import { pathToFileURL } from 'node:url';
import type { Click } from './handler.js';

export interface GenerateOptions {
  count?: number;
  seed?: number;
  /** Epoch ms of the first click; default 2024-05-01T12:00:00Z. */
  start?: number;
}

const PAGES = ['/', '/products', '/products/42', '/cart', '/checkout', '/help'] as const;

/** mulberry32: a tiny 32-bit PRNG, reproducible from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Lines in delivery order: JSON clicks, plus a few malformed lines. */
export function generateClicks(options: GenerateOptions = {}): string[] {
  const count = options.count ?? 1000;
  const random = prng(options.seed ?? 7);
  const start = options.start ?? Date.UTC(2024, 4, 1, 12, 0, 0);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  const lines: Array<{ deliverAt: number; line: string }> = [];
  let ts = start;
  for (let i = 0; i < count; i++) {
    ts += Math.floor(random() * 700);
    const roll = random();
    const click: Click = { user: `u${Math.floor(random() * 30)}`, page: pick(PAGES), ts };
    if (roll < 0.02) click.bot = true;
    let deliverAt = ts + Math.floor(random() * 3_000);
    if (roll >= 0.02 && roll < 0.03) deliverAt = ts - (ts % 60_000) + 60_000 + 10_000 + Math.floor(random() * 15_000);
    if (roll >= 0.03 && roll < 0.035) deliverAt = ts + 100_000 + Math.floor(random() * 30_000);
    const json = JSON.stringify(click);
    lines.push({ deliverAt, line: roll >= 0.035 && roll < 0.04 ? json.slice(0, json.length - 5) : json });
  }
  return lines.sort((a, b) => a.deliverAt - b.deliverAt).map((l) => l.line);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flag = (name: string): number | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const options: GenerateOptions = {};
  const count = flag('count');
  const seed = flag('seed');
  if (count !== undefined) options.count = count;
  if (seed !== undefined) options.seed = seed;
  process.stdout.write(generateClicks(options).join('\n') + '\n');
}
