import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';

/**
 * An event on the source topic. Replace it with your own shape: a tumbling count only needs a key to
 * count per (here `action`) and a timestamp (`ts`).
 */
export interface UserAction {
  user: string;
  /** What is counted: one count per action per minute. */
  action: string;
  /** Epoch milliseconds when the action happened (event time, not when the record reached Kafka). */
  ts: number;
}

/** One result per action and minute that saw at least one event. */
export interface ActionCount {
  action: string;
  /** Start of the minute, ISO 8601 in UTC; the window is [minute, minute + 1 min). */
  minute: string;
  count: number;
}

export default defineFunction({
  name: '{{name}}',
  // The topic to read. With create: true the first deployment creates it and the last one to end deletes it;
  // without, it must exist already (a topic flinkfn did not create is never deleted).
  source: { topic: 'user-actions', format: 'json', create: true },
  // Output topics are created with the function, so they are named after it to stay unique.
  sinks: { counts: { topic: '{{name}}-counts' } },
  key: (event: UserAction) => event.action,
  // Event time: minutes follow the events' own timestamps, so a replay or a backlog gives the same
  // counts as live traffic. Events may arrive up to 5 s out of order; the watermark stays 5 s behind
  // the newest timestamp seen, so a minute is emitted once an event 5 s past its end arrives.
  // Events later than that are dropped (declare `late: { topic: ... }` to keep them, and
  // `allowedLateness` to let them correct the count).
  time: eventTime({ timestamp: (event: UserAction) => event.ts, outOfOrderness: '5s' }),
  window: tumbling('1m'),
  // Flink keeps only this accumulator per action and minute (a number), not the events themselves.
  aggregate: {
    create: () => 0,
    add: (count: number) => count + 1,
    // Tumbling windows never merge; `merge` is here so that switching to session windows just works.
    merge: (a: number, b: number) => a + b,
    result: (count: number, { key, window }): ActionCount => ({
      action: key,
      minute: new Date(window.start).toISOString(),
      count,
    }),
  },
});
