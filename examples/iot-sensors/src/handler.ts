import { defineFunction, eventTime, sliding, to, type Emit } from '@flinkfn/sdk';

/** A temperature reading as the gateways write it to the `sensor-readings` topic. */
export interface Reading {
  sensor: string;
  /** Epoch milliseconds when the sensor took the reading. */
  ts: number;
  /** Missing, null or non-numeric on a faulty probe; such readings go to the dead-letter topic. */
  celsius: number;
}

/** The last ten seconds of one sensor, published every second. */
export interface SensorWindow {
  sensor: string;
  windowStart: number;
  windowEnd: number;
  readings: number;
  avgCelsius: number;
  maxCelsius: number;
}

/** Sent to the `alerts` sink for every window (and every late update of it) that runs too hot. */
export interface TemperatureAlert {
  sensor: string;
  windowStart: number;
  windowEnd: number;
  avgCelsius: number;
  thresholdCelsius: number;
}

/** A ten-second average above this is worth waking someone up for. */
export const ALERT_THRESHOLD_CELSIUS = 80;

/**
 * Flink stores the accumulator as JSON, which has no `-Infinity` (it would come back as null), so "no
 * maximum yet" is the lowest finite number instead.
 */
interface Stats {
  count: number;
  sum: number;
  max: number;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

export default defineFunction({
  name: 'sensor-averages',
  source: { topic: 'sensor-readings', format: 'json', create: true },
  // The first sink receives every window; `alerts` only what result() routes there with to().
  sinks: {
    averages: { topic: 'sensor-averages-10s' },
    alerts: { topic: 'sensor-temperature-alerts', lifecycle: 'retain' },
  },
  late: { topic: 'sensor-readings-late' },
  handle: (reading: Reading): Reading => {
    // Throwing sends the raw reading to the dead-letter topic instead of poisoning the averages with NaN.
    if (typeof reading.celsius !== 'number' || !Number.isFinite(reading.celsius)) {
      throw new Error(`reading from ${String(reading.sensor)} has no valid celsius value: ${String(reading.celsius)}`);
    }
    return reading;
  },
  key: (reading: Reading) => reading.sensor,
  // Gateways batch uploads, so readings arrive up to ~2 s out of order.
  time: eventTime({ timestamp: (reading: Reading) => reading.ts, outOfOrderness: '2s' }),
  // Ten-second averages, one window starting every second: each reading counts in ten windows.
  window: sliding('10s', '1s'),
  // A reading less than 5 s behind the watermark still counts in all ten of its windows; those that
  // already fired fire again with the corrected numbers. Later readings go to the `late` topic.
  allowedLateness: '5s',
  aggregate: {
    create: (): Stats => ({ count: 0, sum: 0, max: -Number.MAX_VALUE }),
    add: (stats: Stats, reading: Reading): Stats => ({
      count: stats.count + 1,
      sum: stats.sum + reading.celsius,
      max: Math.max(stats.max, reading.celsius),
    }),
    merge: (a: Stats, b: Stats): Stats => ({ count: a.count + b.count, sum: a.sum + b.sum, max: Math.max(a.max, b.max) }),
    result: (stats: Stats, { key, window }): Emit<SensorWindow | TemperatureAlert> => {
      const summary: SensorWindow = {
        sensor: key,
        windowStart: window.start,
        windowEnd: window.end,
        readings: stats.count,
        avgCelsius: round2(stats.sum / stats.count),
        maxCelsius: stats.max,
      };
      if (summary.avgCelsius <= ALERT_THRESHOLD_CELSIUS) return summary;
      const alert: TemperatureAlert = {
        sensor: key,
        windowStart: window.start,
        windowEnd: window.end,
        avgCelsius: summary.avgCelsius,
        thresholdCelsius: ALERT_THRESHOLD_CELSIUS,
      };
      return [summary, to('alerts', alert)];
    },
  },
});
