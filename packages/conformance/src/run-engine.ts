/**
 * Runs a case on the embedded engine and collects its outputs in the shape of a case's expectation.
 */
import { Engine } from '@flinkfn/engine';
import { loadArtifactFile, type MetricsSnapshot } from '@flinkfn/host';
import type { ConformanceCase } from './cases.js';

export interface CaseOutputs {
  outputs: Record<string, unknown[]>;
  late: unknown[];
  deadLetters: unknown[];
  metrics: MetricsSnapshot;
}

/** Replays a case's steps on the engine, then ends the input. */
export async function runOnEngine(testCase: ConformanceCase, artifactFile: string): Promise<CaseOutputs> {
  const { host } = await loadArtifactFile(artifactFile);
  const actual: CaseOutputs = { outputs: {}, late: [], deadLetters: [], metrics: { counters: {}, gauges: {}, histograms: {} } };
  const engine = new Engine(
    host,
    {
      output: (o) => (actual.outputs[o.sink] ??= []).push(o.value),
      late: (event) => actual.late.push(event),
      deadLetter: (letter) => actual.deadLetters.push(letter),
    },
    { partitions: testCase.partitions ?? 1 },
  );
  for (const step of testCase.input) {
    if ('event' in step) engine.pushRecord(JSON.stringify(step.event), { partition: step.partition ?? 0 });
    else if ('raw' in step) engine.pushRecord(step.raw, { partition: step.partition ?? 0 });
    else if ('watermark' in step) engine.advanceWatermark(step.watermark);
    else engine.advanceProcessingTime(step.processingTime);
  }
  engine.finish();
  await engine.settled();
  actual.metrics = engine.metrics;
  return actual;
}
