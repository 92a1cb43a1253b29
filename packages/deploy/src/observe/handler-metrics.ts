/**
 * The handler's own metrics (`ctx.metrics`) of a running job, from Flink's REST API: the runtime registers them
 * per subtask on the JS-stage operators (`js: handle <fn>`, `js: window <fn>`) in the group `flinkfn`, so their
 * ids are `<operator>.flinkfn.<name>`; here they are aggregated over the subtasks.
 */
import type { FlinkClient } from '../clients/flink.js';

/** Which of the function's JS stages recorded it: `handle` (the stateless handler) or `window` (the window function). */
export type HandlerStage = 'handle' | 'window';

/** A handler metric over all subtasks of its stage. */
export type HandlerMetric =
  /** The sum of the subtasks' counts. */
  | { stage: HandlerStage; name: string; kind: 'counter'; value: number }
  /** The highest of the subtasks' last values. */
  | { stage: HandlerStage; name: string; kind: 'gauge'; value: number }
  /**
   * Over the recent values each subtask keeps (its last 1000): the lowest minimum, the highest maximum, the mean of
   * the subtasks' means (Flink's REST API does not expose a histogram's count to weigh them), and the highest of the
   * subtasks' quantiles.
   */
  | { stage: HandlerStage; name: string; kind: 'histogram'; min: number; max: number; mean: number; p50: number; p95: number; p99: number };

/** The statistics Flink's REST API shows a histogram as, one metric id each (`<name>_min`, ...). */
const HISTOGRAM_SUFFIXES = ['_min', '_max', '_mean', '_median', '_stddev', '_p75', '_p90', '_p95', '_p98', '_p99', '_p999'] as const;
const GROUP = '.flinkfn.';
/** Ids per request: they go into the URL. */
const CHUNK = 40;

/**
 * The handler metrics of job `jobId` running function `functionName`, ordered by stage and name; empty before the
 * first update reaches Flink's metric store (it is refreshed every few seconds).
 */
export async function handlerMetrics(flink: FlinkClient, jobId: string, functionName: string, vertices: Array<{ id: string; name: string }>): Promise<HandlerMetric[]> {
  const metrics: HandlerMetric[] = [];
  for (const vertex of vertices) {
    const stages = (['handle', 'window'] as const).filter((stage) => vertex.name.includes(`js: ${stage} ${functionName}`));
    if (stages.length === 0) continue;
    // `<subtask>.<operator>.flinkfn.<name>`: the operator's name in metric ids has ':' and ' ' replaced.
    const perSubtask = Object.keys(await flink.vertexSubtaskMetrics(jobId, vertex.id)).filter((id) => id.includes(GROUP));
    const ids = [...new Set(perSubtask.map((id) => id.slice(id.indexOf('.') + 1)))];
    const stageOf = (id: string): HandlerStage | undefined => stages.find((stage) => id.startsWith(`js__${stage}_`));
    const histograms = ids.filter((id) => id.endsWith('_median') && HISTOGRAM_SUFFIXES.every((suffix) => ids.includes(id.replace(/_median$/, suffix)))).map((id) => id.replace(/_median$/, ''));
    const single = ids.filter((id) => !histograms.some((h) => HISTOGRAM_SUFFIXES.some((suffix) => id === h + suffix)));
    // A counter and a gauge look alike aggregated; their text tells them apart: a counter's is a whole number (a
    // Java long), a gauge's is a Java Double's ("2.0", "NaN"; HandlerMetrics registers gauges of Double).
    const firstSubtaskId = new Map(single.map((id) => [id, perSubtask.find((p) => p.slice(p.indexOf('.') + 1) === id)!]));
    const text: Record<string, string | undefined> = {};
    for (const chunk of chunks([...firstSubtaskId.values()])) Object.assign(text, await flink.vertexSubtaskMetrics(jobId, vertex.id, chunk));
    const wanted = [...single, ...histograms.flatMap((h) => ['_min', '_max', '_mean', '_median', '_p95', '_p99'].map((suffix) => h + suffix))];
    const values: Awaited<ReturnType<FlinkClient['vertexMetricAggregates']>> = {};
    for (const chunk of chunks(wanted)) Object.assign(values, await flink.vertexMetricAggregates(jobId, vertex.id, chunk));
    const nameOf = (id: string): string => id.slice(id.lastIndexOf(GROUP) + GROUP.length);
    for (const id of single) {
      const stage = stageOf(id);
      const value = values[id];
      const raw = text[firstSubtaskId.get(id)!];
      if (!stage || !value || raw === undefined) continue;
      metrics.push(/^-?\d+$/.test(raw) ? { stage, name: nameOf(id), kind: 'counter', value: value.sum } : { stage, name: nameOf(id), kind: 'gauge', value: value.max });
    }
    for (const h of histograms) {
      const stage = stageOf(h);
      const of = (suffix: string): { min: number; max: number; avg: number } | undefined => values[h + suffix];
      const [min, max, mean, p50, p95, p99] = [of('_min'), of('_max'), of('_mean'), of('_median'), of('_p95'), of('_p99')];
      if (!stage || !min || !max || !mean || !p50 || !p95 || !p99) continue;
      metrics.push({ stage, name: nameOf(h), kind: 'histogram', min: min.min, max: max.max, mean: mean.avg, p50: p50.max, p95: p95.max, p99: p99.max });
    }
  }
  return metrics.sort((a, b) => a.stage.localeCompare(b.stage) || a.name.localeCompare(b.name));
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
