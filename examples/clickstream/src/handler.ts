import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';

/** A click as the web tier writes it to the `clicks` topic. */
export interface Click {
  user: string;
  page: string;
  /** Epoch milliseconds when the page was viewed. */
  ts: number;
  /** Bots are filtered out before counting. */
  bot?: boolean;
}

export interface PageViews {
  page: string;
  minute: string;
  views: number;
  visitors: number;
}

interface Tally {
  views: number;
  users: string[];
}

export default defineFunction({
  name: 'page-views-per-minute',
  source: { topic: 'clicks', format: 'json', create: true },
  sinks: { views: { topic: 'page-views-per-minute' } },
  late: { topic: 'page-views-late-clicks' },
  handle: (click: Click) => (click.bot ? undefined : click),
  key: (click: Click) => click.page,
  time: eventTime({ timestamp: (click: Click) => click.ts, outOfOrderness: '5s' }),
  window: tumbling('1m'),
  allowedLateness: '30s',
  aggregate: {
    create: (): Tally => ({ views: 0, users: [] }),
    add: (tally: Tally, click: Click): Tally => ({
      views: tally.views + 1,
      users: tally.users.includes(click.user) ? tally.users : [...tally.users, click.user],
    }),
    merge: (a: Tally, b: Tally): Tally => ({
      views: a.views + b.views,
      users: [...new Set([...a.users, ...b.users])],
    }),
    result: (tally: Tally, { key, window }): PageViews => ({
      page: key,
      minute: new Date(window.start).toISOString(),
      views: tally.views,
      visitors: tally.users.length,
    }),
  },
});
