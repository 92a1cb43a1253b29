import { defineFunction, eventTime, parseDuration, session } from '@flinkfn/sdk';

/**
 * An event on the source topic: one page view. Replace it with your own shape; sessions need a key
 * (here `user`) and a timestamp (`ts`).
 */
export interface PageView {
  /** Views without a user go to the dead-letter topic: they cannot be put in anyone's session. */
  user: string;
  page: string;
  /** Epoch milliseconds of the view. */
  ts: number;
}

/** One user's session: views with no pause longer than 15 minutes between them. */
export interface Session {
  user: string;
  /** First and last view, ISO 8601 in UTC. */
  start: string;
  lastView: string;
  durationMs: number;
  views: number;
  /** Distinct pages, sorted. */
  pages: string[];
}

/**
 * What Flink keeps per open session. It is stored as JSON, so it must be plain data. `pages` is kept
 * sorted and without duplicates, so that merging in any order gives the same accumulator.
 */
interface Visit {
  views: number;
  pages: string[];
}

/** A session ends when a user makes no view for longer than this. */
export const SESSION_GAP = '15m';
const SESSION_GAP_MS = parseDuration(SESSION_GAP, 'window.gap');

const union = (a: string[], b: string[]): string[] => [...new Set([...a, ...b])].sort();

export default defineFunction({
  name: '{{name}}',
  // The topic to read. With create: true the first deployment creates it and the last one to end deletes it;
  // without, it must exist already (a topic flinkfn did not create is never deleted).
  source: { topic: 'page-views', format: 'json', create: true },
  // Output topics are created with the function, so they are named after it to stay unique.
  sinks: { sessions: { topic: '{{name}}-sessions' } },
  key: (view: PageView) => view.user,
  // Event time with up to 1 minute out of order. The watermark follows the newest view of any user, so
  // a session is emitted once some view at least 16 minutes (gap + bound) after its last view arrives.
  // A view that joins no open session and whose own 15 minutes are already behind the watermark is
  // dropped (declare `late: { topic: ... }` to keep such views).
  time: eventTime({ timestamp: (view: PageView) => view.ts, outOfOrderness: '1m' }),
  // Each view opens a window [ts, ts + 15 min); windows of the same user that overlap or touch are
  // merged into one session (so views exactly 15 minutes apart stay in one session). A view arriving
  // out of order can bridge two sessions and merge them.
  window: session(SESSION_GAP),
  aggregate: {
    create: (): Visit => ({ views: 0, pages: [] }),
    add: (visit: Visit, view: PageView): Visit => ({ views: visit.views + 1, pages: union(visit.pages, [view.page]) }),
    // Required for sessions: Flink calls it when sessions merge. It must be associative and commutative
    // (the merge order is not defined), which sums and sorted set unions are.
    merge: (a: Visit, b: Visit): Visit => ({ views: a.views + b.views, pages: union(a.pages, b.pages) }),
    // A session window runs from its first view to its last view + the gap, so the last view is
    // window.end − gap: no need to track timestamps in the accumulator.
    result: (visit: Visit, { key, window }): Session => {
      const lastView = window.end - SESSION_GAP_MS;
      return {
        user: key,
        start: new Date(window.start).toISOString(),
        lastView: new Date(lastView).toISOString(),
        durationMs: lastView - window.start,
        views: visit.views,
        pages: visit.pages,
      };
    },
  },
});
