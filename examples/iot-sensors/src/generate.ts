/**
 * Deterministic sample readings for the sensor-averages function, printed as JSON lines in the order a
 * gateway would deliver them:
 *
 *   tsx src/generate.ts --count 1000 --seed 42 > readings.jsonl
 *
 * Four sensors report every 2 s. Delivery is shuffled by up to 1.5 s (inside the 2 s out-of-orderness
 * bound, so never late), about 1 % of readings arrive 3.5–6 s behind the newest one (late, but within
 * the 5 s allowed lateness: their windows fire again), about 0.5 % arrive 18–30 s behind (too late for
 * every window: they go to the late topic) and about 1 % have no usable celsius value (dead letters);
 * a small sample gets at least one of each. The boiler drifts above 80 °C now and then: alerts.
 */
import { pathToFileURL } from 'node:url';
import type { Reading } from './handler.js';

/** A reading as it may appear on the topic: a faulty probe sends null, nothing or text instead of a number. */
export type RawReading = Omit<Reading, 'celsius'> & { celsius?: number | string | null };

export interface GenerateOptions {
  /** Number of readings (lines); default 1000. */
  count?: number;
  /** PRNG seed; the same seed gives the same readings. */
  seed?: number;
  /** Epoch milliseconds of the first reading; default 2024-03-01T08:00:00Z. */
  start?: number;
}

/** Lag behind the newest delivered reading for readings that are late but within the allowed lateness. */
export const LATE_WITHIN_LATENESS_MS = { min: 3_500, max: 6_000 } as const;
/** Lag for readings that miss every window they belong to (at least 10 s + 5 s + 2 s behind). */
export const LATE_BEYOND_LATENESS_MS = { min: 18_000, max: 30_000 } as const;
/** Delivery shuffle: less than the 2 s out-of-orderness bound, so shuffled readings are never late. */
const SHUFFLE_MS = 1_500;

type Fate = 'on-time' | 'faulty' | 'late' | 'too-late';

interface Profile {
  sensor: string;
  /** Mean temperature, swing around it and the period of the swing. */
  base: number;
  swing: number;
  periodMs: number;
  noise: number;
}

const SENSORS: readonly Profile[] = [
  { sensor: 'boiler-1', base: 74, swing: 9, periodMs: 90_000, noise: 1.5 },
  { sensor: 'freezer-1', base: -19, swing: 1, periodMs: 300_000, noise: 0.3 },
  { sensor: 'greenhouse-1', base: 24, swing: 3, periodMs: 600_000, noise: 0.5 },
  { sensor: 'server-rack-1', base: 38, swing: 4, periodMs: 120_000, noise: 1 },
];

/** mulberry32: a tiny, fast 32-bit PRNG; good enough for sample data and fully reproducible. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Readings in delivery order. */
export function generateReadings(options: GenerateOptions = {}): RawReading[] {
  const count = options.count ?? 1000;
  const random = mulberry32(options.seed ?? 42);
  const start = options.start ?? Date.UTC(2024, 2, 1, 8, 0, 0);

  // 1. What the sensors measured, in timestamp order: each sensor reports every 2 s (plus 0–200 ms).
  const measured: RawReading[] = [];
  for (let tick = 0; measured.length < count; tick++) {
    for (const [i, profile] of SENSORS.entries()) {
      if (measured.length === count) break;
      const ts = start + tick * 2_000 + i * 500 + Math.floor(random() * 200);
      const wave = Math.sin((2 * Math.PI * (ts - start)) / profile.periodMs);
      const celsius = profile.base + profile.swing * wave + profile.noise * (random() * 2 - 1);
      measured.push({ sensor: profile.sensor, ts, celsius: Math.round(celsius * 10) / 10 });
    }
  }

  // 2. Decide what happens to each reading; a small sample still gets at least one of each kind.
  const fates: Fate[] = measured.map(() => {
    const roll = random();
    return roll < 0.01 ? 'faulty' : roll < 0.02 ? 'late' : roll < 0.025 ? 'too-late' : 'on-time';
  });
  for (const [fate, at] of [['too-late', 0.1], ['faulty', 0.5], ['late', 0.6]] as const) {
    if (count >= 10 && !fates.includes(fate)) fates[Math.floor(count * at)] = fate;
  }
  const onTime: Array<{ reading: RawReading; deliverAt: number }> = [];
  const late: Array<{ reading: RawReading; lag: { min: number; max: number } }> = [];
  for (const [index, reading] of measured.entries()) {
    const fate = fates[index];
    if (fate === 'late' || fate === 'too-late') {
      late.push({ reading, lag: fate === 'late' ? LATE_WITHIN_LATENESS_MS : LATE_BEYOND_LATENESS_MS });
      continue;
    }
    if (fate === 'faulty') {
      const fault = random();
      if (fault < 1 / 3) reading.celsius = null;
      else if (fault < 2 / 3) delete reading.celsius;
      else reading.celsius = 'n/a';
    }
    onTime.push({ reading, deliverAt: reading.ts + random() * SHUFFLE_MS });
  }
  onTime.sort((a, b) => a.deliverAt - b.deliverAt);

  // 3. Deliver each late reading right after the first on-time reading that puts it far enough behind.
  //    Faulty readings never reach the watermark, so only well-formed ones count towards "newest".
  //    slots[k] holds what is delivered after onTime[k - 1] and before onTime[k].
  const slots: RawReading[][] = Array.from({ length: onTime.length + 1 }, () => []);
  const newest: number[] = [];
  let max = Number.NEGATIVE_INFINITY;
  for (const { reading } of onTime) {
    if (typeof reading.celsius === 'number') max = Math.max(max, reading.ts);
    newest.push(max);
  }
  for (const { reading, lag } of late) {
    const at = newest.findIndex((ts) => ts >= reading.ts + lag.min);
    if (at >= 0 && (newest[at] ?? 0) <= reading.ts + lag.max) {
      slots[at + 1]?.push(reading);
    } else {
      // Too close to the end of the data to be that late: deliver it on time instead.
      const next = onTime.findIndex(({ deliverAt }) => deliverAt > reading.ts);
      slots[next < 0 ? onTime.length : next]?.push(reading);
    }
  }
  return slots.flatMap((slot, k) => {
    const next = onTime[k];
    return next === undefined ? slot : [...slot, next.reading];
  });
}

function parseArgs(argv: readonly string[]): GenerateOptions {
  const options: GenerateOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    const value = Number(argv[i + 1]);
    if ((arg === '--count' || arg === '--seed') && Number.isInteger(value) && value >= 0) {
      options[arg === '--count' ? 'count' : 'seed'] = value;
      i++;
    } else {
      throw new Error(`unknown or invalid argument '${arg}'; usage: generate [--count N] [--seed S]`);
    }
  }
  return options;
}

// Run as a script (not when a test imports generateReadings).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    for (const reading of generateReadings(parseArgs(process.argv.slice(2)))) {
      process.stdout.write(`${JSON.stringify(reading)}\n`);
    }
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
