#!/usr/bin/env node
// flinkfn benchmarks: each scenario runs the function written in TypeScript (through the sidecar) and the same
// function written in Java, in the same runtime classes, on the same generated input, in one run, and reports the
// ratio. Results go to bench/results/ as JSON, a Markdown table and an SVG chart; the README's table is updated.
//
//   node --import tsx bench/run.mjs [--quick] [--only stateless-map,tumbling-count]
//
// Needs the workspace built (./scripts/setup) and Java 17 + Maven. --quick uses fewer records and runs (for a
// smoke check; its figures are not comparable).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runtime = path.join(root, 'packages', 'runtime-flink');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;

const SCENARIOS = [
  { id: 'stateless-map', fn: 'stateless-map', parallelism: 1, records: 1_000_000, title: 'stateless map, 100-byte JSON, p=1', target: 0.7 },
  { id: 'stateless-map-p2', fn: 'stateless-map', parallelism: 2, records: 1_000_000, title: 'stateless map, 100-byte JSON, p=2', target: 0.7 },
  { id: 'tumbling-count', fn: 'tumbling-count', parallelism: 1, records: 500_000, title: 'keyed tumbling count, 10,000 keys', target: 0.6 },
  { id: 'sliding-average', fn: 'sliding-average', parallelism: 1, records: 300_000, title: 'sliding average, 10 s / 1 s', target: null },
  { id: 'session-windows', fn: 'session-windows', parallelism: 1, records: 300_000, title: 'session windows with merging', target: null },
].filter((s) => !only || only.includes(s.id));

const log = (line) => process.stderr.write(`› ${line}\n`);

function flinkfnBuild(fn) {
  const out = execFileSync(process.execPath, [path.join(root, 'packages/cli/bin/flinkfn.js'), 'build', `functions/${fn}.ts`, '--root', path.join(root, 'bench'), '--json'], { encoding: 'utf8' });
  return JSON.parse(out);
}

function javaClasspath() {
  log('compiling the runtime and its benchmark classes (mvn test-compile)');
  execFileSync('mvn', ['-B', '-q', 'test-compile'], { cwd: runtime, stdio: ['ignore', 'ignore', 'inherit'] });
  const file = path.join(runtime, 'target', 'test-classpath.txt');
  execFileSync('mvn', ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.11.0:build-classpath', `-Dmdep.outputFile=${file}`, '-Dmdep.includeScope=test'], { cwd: runtime, stdio: ['ignore', 'ignore', 'inherit'] });
  return [path.join(runtime, 'target/classes'), path.join(runtime, 'target/test-classes'), readFileSync(file, 'utf8').trim()].join(':');
}

function javaOpens() {
  const pom = readFileSync(path.join(runtime, 'pom.xml'), 'utf8');
  return (/<flink\.java17\.opens>([^<]+)<\/flink\.java17\.opens>/.exec(pom)?.[1] ?? '').trim().split(/\s+/);
}

function runThroughput(scenario, artifact, classpath) {
  return new Promise((resolve, reject) => {
    const javaArgs = [
      ...javaOpens(), '-Xmx2g', `-Dlog4j2.configurationFile=${path.join(runtime, 'src/test/resources/log4j2-test.properties')}`,
      '-cp', classpath, 'dev.flinkfn.runtime.bench.ThroughputBenchmark',
      '--scenario', scenario.fn, '--artifact', artifact, '--sidecar', path.join(root, 'packages/sidecar/bin/flinkfn-sidecar.js'),
      '--records', String(quick ? Math.round(scenario.records / 10) : scenario.records), '--runs', quick ? '1' : '3',
      '--parallelism', String(scenario.parallelism),
    ];
    const child = spawn('java', javaArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"scenario"'));
      if (code !== 0 || !line) return reject(new Error(`${scenario.id} failed (exit ${code}):\n${err.slice(-3000)}`));
      resolve(JSON.parse(line));
    });
  });
}

/** Runs a benchmark main class of the runtime's test classes; resolves with its JSON result line. */
function runJava(mainClass, args, classpath, marker) {
  return new Promise((resolve, reject) => {
    const javaArgs = [...javaOpens(), '-Xmx2g', `-Dlog4j2.configurationFile=${path.join(runtime, 'src/test/resources/log4j2-test.properties')}`, '-cp', classpath, mainClass, ...args];
    const child = spawn('java', javaArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(marker));
      if (code !== 0 || !line) return reject(new Error(`${mainClass} ${args.join(' ')} failed (exit ${code}):\n${err.slice(-3000)}`));
      resolve(JSON.parse(line));
    });
  });
}

/**
 * flinkfn deploy → RUNNING on a warm local stack (started here under a temporary root and stopped after):
 * five fresh deploys of the iot-sensors example, each destroyed again.
 */
async function deployTimes() {
  const { startStack, stopStack } = await import(path.join(root, 'packages/local-stack/stack.mjs'));
  const stackRoot = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-bench-stack-'));
  const stack = await startStack({ root: stackRoot, ports: { flinkRest: 0, kafka: 0, s3: 0 } });
  const env = {
    ...process.env,
    FLINKFN_LOCAL_ROOT: stackRoot,
    FLINKFN_LOCAL_FLINK_PORT: new URL(stack.flink.restUrl).port,
    FLINKFN_LOCAL_KAFKA_PORT: stack.kafka.bootstrapServers.split(':').at(-1),
    FLINKFN_LOCAL_S3_PORT: new URL(stack.s3.endpoint).port,
  };
  const cli = (args) => execFileSync(process.execPath, [path.join(root, 'packages/cli/bin/flinkfn.js'), ...args], { env, encoding: 'utf8' });
  const samples = [];
  try {
    for (let i = 0; i < (quick ? 2 : 6); i++) {
      const result = JSON.parse(cli(['deploy', '--root', path.join(root, 'examples', 'iot-sensors'), '--json']));
      cli(['destroy', result.name, '--json']);
      // The first deploy of a cluster also uploads the runtime jar and loads the S3 plugin: reported apart.
      samples.push({ first: i === 0, totalMs: result.durationMs, runningAfterMs: result.runningAfterMs, allTasksAfterSubmitMs: result.submitToRunningMs });
    }
  } finally {
    await stopStack({ root: stackRoot });
    rmSync(stackRoot, { recursive: true, force: true });
  }
  const warm = samples.filter((s) => !s.first);
  const stat = (key) => {
    const values = warm.map((s) => s[key]).sort((a, b) => a - b);
    return { median: values[Math.floor(values.length / 2)], min: values[0], max: values.at(-1) };
  };
  return { first: samples[0], warm: { runningAfterMs: stat('runningAfterMs'), totalMs: stat('totalMs'), allTasksAfterSubmitMs: stat('allTasksAfterSubmitMs') }, samples: warm.length };
}

/** Records/s through one sidecar over its socket: trivial function, pipelined bundles of 1,000. */
async function protocolAlone() {
  const { startSidecar, TestClient } = await import(path.join(root, 'packages/sidecar/test/helpers.ts'));
  const { MessageType } = await import(path.join(root, 'packages/sidecar/src/protocol.ts'));
  const built = flinkfnBuild('identity');
  const sidecar = await startSidecar(built.file);
  try {
    const client = await TestClient.connect(sidecar.socketPath);
    const records = Array.from({ length: 1000 }, (_, i) => Buffer.from(JSON.stringify({ id: i, user: `u${i % 10000}`, page: `/products/${i % 50}`, price: 12.5, qty: 1 + (i % 5), ts: 1_700_000_000_000 + i })));
    const rounds = quick ? 100 : 1000;
    for (let i = 0; i < 50; i++) await client.send({ type: MessageType.PROCESS, id: i, records });
    const started = process.hrtime.bigint();
    const inFlight = [];
    for (let i = 0; i < rounds; i++) {
      inFlight.push(client.send({ type: MessageType.PROCESS, id: i, records }));
      if (inFlight.length >= 4) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    client.close();
    return { recordsPerSecond: Math.round((rounds * 1000) / seconds), bundle: 1000, inFlight: 4 };
  } finally {
    await sidecar.stop();
  }
}

function buildTimes() {
  const times = [];
  for (const example of ['clickstream', 'iot-sensors', 'shopping-sessions']) {
    for (let i = 0; i < (quick ? 2 : 5); i++) {
      const started = process.hrtime.bigint();
      execFileSync(process.execPath, [path.join(root, 'packages/cli/bin/flinkfn.js'), 'build', '--root', path.join(root, 'examples', example), '--json']);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  times.sort((a, b) => a - b);
  return { medianMs: Math.round(times[Math.floor(times.length / 2)]), minMs: Math.round(times[0]), maxMs: Math.round(times.at(-1)) };
}

function markdown(results) {
  const k = (n) => `${Math.round(n / 1000)}k`;
  const rows = results.throughput.map((r) => {
    const s = SCENARIOS.find((x) => x.id === r.id);
    return `| ${s.title} | ${k(r.js.median)} (${k(r.js.min)}–${k(r.js.max)}) | ${k(r.java.median)} (${k(r.java.min)}–${k(r.java.max)}) | **${r.ratio.toFixed(2)}** | ${s.target ?? '—'} |`;
  });
  return [
    `Measured ${results.date} on ${results.machine} (${quick ? 'QUICK run, not comparable' : `median of ${results.runs} runs after a warm-up, min–max in brackets`}).`,
    '',
    '| scenario | TypeScript via sidecar, records/s | Java, records/s | ratio | target |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    '',
    `Added latency, stateless map, event creation → result in the sink, at ${k(results.latency.rate)} records/s (half of the TypeScript maximum above), ${results.latency.java.samples} results after a ${results.latency.warmup} s warm-up:`,
    '',
    '| | p50 | p95 | p99 | max |',
    '|---|---|---|---|---|',
    ...['js', 'java'].map((v) => `| ${v === 'js' ? 'TypeScript via sidecar' : 'Java'} | ${results.latency[v].p50.toFixed(2)} ms | ${results.latency[v].p95.toFixed(2)} ms | ${results.latency[v].p99.toFixed(2)} ms | ${results.latency[v].max.toFixed(1)} ms |`),
    `| **added (TS − Java)** | ${(results.latency.js.p50 - results.latency.java.p50).toFixed(2)} ms | ${(results.latency.js.p95 - results.latency.java.p95).toFixed(2)} ms | **${(results.latency.js.p99 - results.latency.java.p99).toFixed(2)} ms** (target ≤ 10 ms) | |`,
    '',
    `Checkpoints every ${results.checkpoints[0]?.intervalMs ?? 1000} ms at ${k(results.checkpoints[0]?.rate ?? 0)} records/s for ${results.checkpoints[0]?.seconds ?? 0} s (hashmap state backend, MiniCluster):`,
    '',
    '| scenario | TS: median (max) duration, state size | Java: median (max) duration, state size |',
    '|---|---|---|',
    ...results.checkpoints.map((c) => `| ${c.scenario} | ${c.js.durationMedianMs} ms (${c.js.durationMaxMs} ms), ${(c.js.stateSizeMedianBytes / 1024).toFixed(0)} KiB | ${c.java.durationMedianMs} ms (${c.java.durationMaxMs} ms), ${(c.java.stateSizeMedianBytes / 1024).toFixed(0)} KiB |`),
    '',
    `\`flinkfn deploy\` → job RUNNING on a warm local cluster (iot-sensors, ${results.deploy.samples} fresh deploys): median ${results.deploy.warm.runningAfterMs.median} ms (${results.deploy.warm.runningAfterMs.min}–${results.deploy.warm.runningAfterMs.max}); every task running (sidecars up, Kafka producers initialised) ${results.deploy.warm.allTasksAfterSubmitMs.median} ms after submission; whole command ${results.deploy.warm.totalMs.median} ms. The first deploy to a new cluster (runtime jar upload, S3 plugin loading): ${results.deploy.first.totalMs} ms.`,
    '',
    `Sidecar protocol alone (one sidecar, identity function, bundles of 1,000, 4 in flight): ${k(results.protocol.recordsPerSecond)} records/s.`,
    `\`flinkfn build\` of an example, whole process: median ${results.build.medianMs} ms (${results.build.minMs}–${results.build.maxMs}).`,
    '',
    '![throughput](results/throughput.svg)',
  ].join('\n');
}

function svg(results) {
  const rows = results.throughput;
  const max = Math.max(...rows.flatMap((r) => [r.js.median, r.java.median]));
  const width = 640;
  const bar = 14;
  const rowHeight = 48;
  const left = 230;
  const scale = (v) => Math.round(((width - left - 70) * v) / max);
  const parts = rows.map((r, i) => {
    const y = 30 + i * rowHeight;
    const label = SCENARIOS.find((x) => x.id === r.id).title;
    return [
      `<text x="8" y="${y + 18}" font-size="12">${label}</text>`,
      `<rect x="${left}" y="${y}" width="${scale(r.js.median)}" height="${bar}" fill="#3178c6"/>`,
      `<text x="${left + scale(r.js.median) + 4}" y="${y + 11}" font-size="11">${Math.round(r.js.median / 1000)}k TS</text>`,
      `<rect x="${left}" y="${y + bar + 2}" width="${scale(r.java.median)}" height="${bar}" fill="#e76f00"/>`,
      `<text x="${left + scale(r.java.median) + 4}" y="${y + bar + 13}" font-size="11">${Math.round(r.java.median / 1000)}k Java</text>`,
    ].join('');
  });
  const height = 40 + rows.length * rowHeight;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="8" y="16" font-size="13" font-weight="bold">records/s, TypeScript via sidecar (blue) vs Java (orange)</text>${parts.join('')}</svg>\n`;
}

const started = Date.now();
const classpath = javaClasspath();
const throughput = [];
for (const scenario of SCENARIOS) {
  log(`${scenario.id}: building the TypeScript function`);
  const built = flinkfnBuild(scenario.fn);
  log(`${scenario.id}: running TypeScript and Java variants`);
  const result = await runThroughput(scenario, built.file, classpath);
  log(`${scenario.id}: ratio ${result.ratio.toFixed(2)} (TS ${Math.round(result.js.median)} / Java ${Math.round(result.java.median)} records/s)`);
  throughput.push({ id: scenario.id, ...result });
}
const statelessJs = throughput.find((t) => t.id === 'stateless-map')?.js.median ?? 100_000;
const latencyRate = Math.round(statelessJs / 2);
log(`added latency at ${latencyRate} records/s (half the TypeScript maximum)`);
const latencySeconds = quick ? 6 : 25;
const latencyWarmup = quick ? 2 : 5;
const latency = {
  warmup: latencyWarmup,
  ...(await runJava('dev.flinkfn.runtime.bench.LatencyBenchmark', ['--mode', 'latency', '--scenario', 'stateless-map', '--artifact', flinkfnBuild('stateless-map').file,
    '--sidecar', path.join(root, 'packages/sidecar/bin/flinkfn-sidecar.js'), '--rate', String(latencyRate), '--seconds', String(latencySeconds), '--warmup', String(latencyWarmup)], classpath, '{"mode"')),
};
const checkpoints = [];
for (const fn of ['stateless-map', 'tumbling-count']) {
  log(`checkpoints: ${fn}`);
  const result = await runJava('dev.flinkfn.runtime.bench.LatencyBenchmark', ['--mode', 'checkpoints', '--scenario', fn, '--artifact', flinkfnBuild(fn).file,
    '--sidecar', path.join(root, 'packages/sidecar/bin/flinkfn-sidecar.js'), '--rate', '20000', '--seconds', quick ? '5' : '20', '--interval-ms', '1000'], classpath, '{"mode"');
  checkpoints.push({ ...result, intervalMs: 1000 });
}
log('flinkfn deploy -> RUNNING on a local stack');
const deploy = await deployTimes();
log('sidecar protocol alone');
const protocol = await protocolAlone();
log('flinkfn build times');
const build = buildTimes();

const results = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
  quick,
  runs: quick ? 1 : 3,
  throughput,
  latency,
  checkpoints,
  deploy,
  protocol,
  build,
  load: os.loadavg(),
  notRunYet: ['end to end through the Kafka broker'],
  durationSeconds: Math.round((Date.now() - started) / 1000),
};
const dir = path.join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
const table = markdown(results);
writeFileSync(path.join(dir, 'latest.md'), table.replace('results/throughput.svg', 'throughput.svg') + '\n');
writeFileSync(path.join(dir, 'throughput.svg'), svg(results));
if (!quick) {
  const readme = path.join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const updated = text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${table.replace('results/throughput.svg', 'bench/results/throughput.svg')}\n<!-- bench:end -->`);
  writeFileSync(readme, updated);
}
log(`done in ${results.durationSeconds} s: bench/results/latest.{json,md}, bench/results/throughput.svg`);
