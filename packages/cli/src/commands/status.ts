/**
 * `flinkfn status <name>`: job state, uptime, records in/out, watermark, last checkpoint, restarts, and the
 * handler's own metrics (`ctx.metrics`) over the job's subtasks.
 */
import type { HandlerMetric } from '@flinkfn/deploy';
import { defineCommand } from '../command.js';
import { formatBytes } from '../output.js';
import { resolveTarget } from '../target-options.js';

export const statusCommand = defineCommand({
  command: 'status <name>',
  describe: 'Show a deployment: job state, uptime, records in/out, watermark, lag per partition, last checkpoint, restarts, handler metrics, resources with owners',
  target: true,
  positionals: { name: { type: 'string', demandOption: true } },
  options: {
    partitions: { type: 'boolean', default: false, describe: 'Also the watermark, idleness and lag of each source partition' },
  },
  run: async (args, out) => {
    const { status } = await import('@flinkfn/deploy');
    const s = await status(await resolveTarget(args), args.name);
    out.info(`${s.name} (function ${s.functionName}) v${s.version ?? '-'}: ${s.jobState ?? 'no job'}`);
    if (s.jobId) out.info(`  job         ${s.jobId}  ${s.jobUrl ?? ''}`);
    if (s.uptimeMs !== null) out.info(`  uptime      ${(s.uptimeMs / 1000).toFixed(0)} s`);
    if (s.recordsIn !== null) out.info(`  records     ${s.recordsIn} in, ${s.recordsOut ?? 0} out`);
    out.info(`  watermark   ${s.watermark === null ? 'none yet' : new Date(s.watermark).toISOString()}`);
    if (args.partitions) {
      for (const p of s.partitions) {
        const lag = s.lag.find((l) => l.partition === p.partition);
        out.info(`    p${String(p.partition).padEnd(4)} watermark ${p.watermark === null ? 'none yet' : new Date(p.watermark).toISOString()}${p.idle ? ' (idle)' : ''}${lag ? `, lag ${lag.lag}` : ''}`);
      }
    }
    if (s.lag.length > 0) out.info(`  lag         ${s.lag.reduce((n, p) => n + p.lag, 0)} records not yet committed (${s.lag.map((p) => `p${p.partition} ${p.lag}`).join(', ')})`);
    out.info(`  checkpoint  ${s.lastCheckpoint ? `#${s.lastCheckpoint.id} at ${new Date(s.lastCheckpoint.at).toISOString()}, ${s.lastCheckpoint.durationMs} ms, ${formatBytes(s.lastCheckpoint.bytes)}` : 'none yet'}`);
    if (s.restarts !== null) out.info(`  restarts    ${s.restarts}`);
    if (s.handlerMetrics.length > 0) {
      out.info('  metrics     (ctx.metrics, over all subtasks)');
      for (const m of s.handlerMetrics) out.info(`    ${`${m.stage} ${m.name}`.padEnd(28)} ${describeMetric(m)}`);
    }
    if (s.operation) out.info(`  unfinished  ${s.operation.kind} since ${s.operation.startedAt}`);
    out.info(`  versions    ${s.versions.map((v) => `v${v.version} ${v.state}`).join(', ')}`);
    if (s.lifetime) out.info(`  lifetime    ${s.lifetime.expiresAt ? `expires ${s.lifetime.expiresAt}` : 'no TTL'}${s.lifetime.idleTimeoutMs ? `, released after ${Math.round(s.lifetime.idleTimeoutMs / 1000)} s idle` : ''}`);
    if (s.ended) out.info(`  ended       ${s.ended.at}: ${s.ended.reason} (${s.ended.detail})`);
    const live = s.resources.filter((r) => r.state !== 'deleted');
    out.info(`  resources   ${live.length} live (${s.record})`);
    for (const r of live) {
      const attached = r.attached.length > 0 ? `, also used by ${r.attached.join(', ')}` : '';
      out.info(`    ${r.kind.padEnd(21)} ${r.id}  ${r.state}, ${r.lifecycle}, owner ${r.owner}${r.role ? `, as ${r.role}` : ''}${attached}`);
    }
    out.data({ ok: true, ...s });
  },
});

/** A counter's sum, a gauge's highest value, a histogram's statistics (see HandlerMetric). */
function describeMetric(m: HandlerMetric): string {
  const n = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(2));
  if (m.kind === 'counter') return `counter    ${n(m.value)}`;
  if (m.kind === 'gauge') return `gauge      ${n(m.value)}`;
  return `histogram  min ${n(m.min)}, p50 ${n(m.p50)}, mean ${n(m.mean)}, p95 ${n(m.p95)}, p99 ${n(m.p99)}, max ${n(m.max)}`;
}
