import { defineFunction, eventTime, sliding } from '@flinkfn/sdk';

/**
 * An event on the source topic: one CPU measurement of one host. Replace it with your own shape; a
 * sliding average needs a key (here `host`), a number to average (`cpu`) and a timestamp (`ts`).
 */
export interface CpuSample {
  host: string;
  /** CPU use in percent. A sample without a finite number goes to the dead-letter topic. */
  cpu: number;
  /** Epoch milliseconds when the sample was taken. */
  ts: number;
}

/** The average of one host over one minute; a new one every 10 seconds. */
export interface CpuAverage {
  host: string;
  /** ISO 8601 in UTC; the window is [windowStart, windowEnd), one minute long. */
  windowStart: string;
  windowEnd: string;
  samples: number;
  /** Rounded to two decimals. */
  average: number;
}

/**
 * What Flink keeps per host and window: a count and a sum, not the samples. It is stored as JSON, so it
 * must be plain data (no `Infinity`, `NaN`, `Date` or class instances).
 */
interface Sum {
  count: number;
  sum: number;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

export default defineFunction({
  name: '{{name}}',
  // The topic to read. With create: true the first deployment creates it and the last one to end deletes it;
  // without, it must exist already (a topic flinkfn did not create is never deleted).
  source: { topic: 'cpu-samples', format: 'json', create: true },
  // Output topics are created with the function, so they are named after it to stay unique.
  sinks: { averages: { topic: '{{name}}-averages' } },
  // Samples too late for every window they belong to are kept here instead of silently dropped.
  late: { topic: '{{name}}-late' },
  // Check the value before it reaches the windows: one NaN would poison six averages. Throwing sends
  // the sample to the dead-letter topic (`{{name}}-dead-letter` by default) and processing goes on.
  handle: (sample: CpuSample): CpuSample => {
    if (typeof sample.cpu !== 'number' || !Number.isFinite(sample.cpu)) {
      throw new Error(`sample from ${String(sample.host)} has no numeric cpu value: ${JSON.stringify(sample.cpu)}`);
    }
    return sample;
  },
  key: (sample: CpuSample) => sample.host,
  // Event time with up to 5 s out of order: a window is emitted once a sample 5 s past its end arrives.
  time: eventTime({ timestamp: (sample: CpuSample) => sample.ts, outOfOrderness: '5s' }),
  // One-minute windows, a new one every 10 seconds: each sample counts in six windows, and each host
  // gets a fresh one-minute average every 10 seconds.
  window: sliding('1m', '10s'),
  // A sample up to 30 s behind the watermark still corrects the windows already emitted: each of them
  // is emitted again with the corrected average, so consumers should keep the last one per
  // (host, windowStart). Only a sample too late for all of its windows goes to the late topic.
  allowedLateness: '30s',
  aggregate: {
    create: (): Sum => ({ count: 0, sum: 0 }),
    add: (acc: Sum, sample: CpuSample): Sum => ({ count: acc.count + 1, sum: acc.sum + sample.cpu }),
    // Sliding windows never merge; `merge` is here so that switching to session windows just works.
    merge: (a: Sum, b: Sum): Sum => ({ count: a.count + b.count, sum: a.sum + b.sum }),
    result: (acc: Sum, { key, window }): CpuAverage => ({
      host: key,
      windowStart: new Date(window.start).toISOString(),
      windowEnd: new Date(window.end).toISOString(),
      samples: acc.count,
      average: round2(acc.sum / acc.count),
    }),
  },
});
