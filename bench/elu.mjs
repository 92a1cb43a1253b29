// Preloaded into a sidecar by bench/profile.mjs (node --import …/elu.mjs flinkfn-sidecar.js …): when the sidecar
// exits, appends one JSON line with its event-loop utilisation and CPU time to $FLINKFN_BENCH_ELU_FILE.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env.FLINKFN_BENCH_ELU_FILE;
if (file) {
  const started = performance.now();
  process.on('exit', () => {
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    appendFileSync(file, `${JSON.stringify({
      pid: process.pid,
      wallSeconds: +((performance.now() - started) / 1000).toFixed(2),
      eventLoopUtilization: +elu.utilization.toFixed(3),
      cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    })}\n`);
  });
}
