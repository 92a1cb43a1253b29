#!/usr/bin/env node
// flinkfn benchmarks: each scenario runs the function written in TypeScript (through the sidecar) and the same
// function written in Java, in the same runtime classes, on the same generated input, in one run, and reports the
// ratio. Two anchors stand for what a user would pick instead of flinkfn: Flink SQL (window TVFs, in the same JVM
// harness as the Java variant) for the window scenarios, and PyFlink (its DataStream API, process and thread mode, in
// a virtualenv this script makes under bench/.venv-pyflink) for every throughput scenario, on the same records.
// Results go to bench/results/ as JSON, a Markdown table and an SVG chart; the README's table is updated. A --quick
// run writes bench/results/quick.{json,md} instead (not kept in git), and an --only run only-<ids>.{json,md}, so the
// full run's results stay.
//
//   node --import tsx bench/run.mjs [--quick] [--only stateless-map,tumbling-count] [--no-anchors] [--wait-quiet <minutes>]
//
// Scenarios: throughput (ThroughputBenchmark, with the SQL anchor; PyFlink by bench/pyflink/throughput.py), added latency and checkpoint cost (LatencyBenchmark), end to end
// through a local Kafka broker (KafkaBenchmark), flinkfn deploy → RUNNING on a local stack, the sidecar protocol
// alone and flinkfn build. Needs the workspace built (./scripts/setup), Java 17 + Maven and python3 (3.9 to 3.12). --quick uses fewer
// records and runs (a smoke check; its figures are not comparable). --wait-quiet waits (up to that many minutes)
// for a 1-minute load average below 1.2 before measuring. --no-anchors runs the TypeScript and Java DataStream variants
// only (no Flink SQL, no PyFlink): a before/after check of a change. The CPU that other processes used during the run is
// sampled from /proc and written next to the results.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runtime = path.join(root, 'packages', 'runtime-flink');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
/** TypeScript and Java DataStream only, without the Flink SQL and PyFlink anchors: a before/after check of a change. */
const noAnchors = args.includes('--no-anchors');
const waitQuietMinutes = args.includes('--wait-quiet') ? Number(args[args.indexOf('--wait-quiet') + 1]) : 0;
const sidecarJs = path.join(root, 'packages/sidecar/bin/flinkfn-sidecar.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// sql: the scenario has a Flink SQL variant (SqlAnchor); every scenario has a PyFlink one (bench/pyflink/throughput.py)
const SCENARIOS_ALL = [
  { id: 'stateless-map', fn: 'stateless-map', parallelism: 1, records: 1_000_000, title: 'stateless map, 100-byte JSON, p=1', target: 0.7, sql: false },
  { id: 'stateless-map-p2', fn: 'stateless-map', parallelism: 2, records: 1_000_000, title: 'stateless map, 100-byte JSON, p=2', target: 0.7, sql: false },
  { id: 'tumbling-count', fn: 'tumbling-count', parallelism: 1, records: 500_000, title: 'keyed tumbling count, 10,000 keys', target: 0.6, sql: true },
  { id: 'sliding-average', fn: 'sliding-average', parallelism: 1, records: 300_000, title: 'sliding average, 10 s / 1 s', target: null, sql: true },
  { id: 'session-windows', fn: 'session-windows', parallelism: 1, records: 300_000, title: 'session windows with merging', target: null, sql: false },
];
const PYFLINK_MODES = ['process', 'thread'];
const SCENARIOS = SCENARIOS_ALL.filter((s) => !only || only.includes(s.id));
/** Phases besides throughput: --only takes their ids too (async-enrichment, latency, checkpoints, kafka, deploy, protocol, sidecar-costs, build). */
const wants = (id) => !only || only.includes(id);

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

/** Records of a throughput scenario in this run. */
const records = (scenario) => (quick ? Math.round(scenario.records / 10) : scenario.records);
/** Records of a check run: as ThroughputBenchmark.checkRecords. */
const checkRecords = (n) => Math.max(10_000, Math.floor(n / 10));

/** Runs a program; resolves with its exit code, the first line of its output starting with `marker`, and its stderr. */
function runForLine(command, args, marker, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, line: out.split('\n').find((l) => l.startsWith(marker)), err }));
  });
}

function runThroughput(scenario, artifact, classpath, { runs = quick ? 1 : 3 } = {}) {
  return runJava('dev.flinkfn.runtime.bench.ThroughputBenchmark', ['--scenario', scenario.fn, '--artifact', artifact, '--sidecar', sidecarJs,
    '--records', String(records(scenario)), '--runs', String(runs), '--parallelism', String(scenario.parallelism),
    '--variants', scenario.sql && !noAnchors ? 'java,js,sql' : 'java,js'], classpath, '{"scenario"');
}

/** Runs a benchmark main class of the runtime's test classes; resolves with its JSON result line. */
async function runJava(mainClass, args, classpath, marker) {
  const javaArgs = [...javaOpens(), '-Xmx2g', `-Dlog4j2.configurationFile=${path.join(runtime, 'src/test/resources/log4j2-test.properties')}`, '-cp', classpath, mainClass, ...args];
  const { code, line, err } = await runForLine('java', javaArgs, marker);
  if (code !== 0 || !line) throw new Error(`${mainClass} ${args.join(' ')} failed (exit ${code}):\n${err.slice(-3000)}`);
  return JSON.parse(line);
}

/**
 * The PyFlink anchor's Python: a virtualenv under bench/.venv-pyflink (gitignored) with bench/pyflink/requirements.txt
 * installed into it; pip leaves it as it is when it is already there.
 */
function pyflinkPython() {
  const venv = path.join(root, 'bench', '.venv-pyflink');
  const python = path.join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    log('PyFlink: making the virtualenv bench/.venv-pyflink');
    execFileSync('python3', ['-m', 'venv', venv], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  log('PyFlink: pip install -r bench/pyflink/requirements.txt (into the virtualenv)');
  execFileSync(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', path.join(root, 'bench', 'pyflink', 'requirements.txt')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return python;
}

/** The generator's records as files (ThroughputBenchmark --write-input), one per reader, for PyFlink's file source. */
function writeInput(folder, n, parallelism, classpath) {
  execFileSync('java', [...javaOpens(), '-cp', classpath, 'dev.flinkfn.runtime.bench.ThroughputBenchmark', '--write-input', folder,
    '--records', String(n), '--parallelism', String(parallelism)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Fields of ResultDigest that disagree (as ResultDigest.disagreement: sums a side lacks, 0, are not compared). */
function digestDisagreement(a, b) {
  const close = (x, y) => x === 0 || y === 0 || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
  for (const field of ['results', 'keySum', 'startSum']) if (a[field] !== b[field]) return `${field} ${a[field]} against ${b[field]}`;
  for (const field of ['countSum', 'averageSum', 'totalSum']) if (!close(a[field], b[field])) return `${field} ${a[field]} against ${b[field]}`;
  return null;
}

/**
 * The PyFlink anchor of one scenario, per execution mode: the same records (written by ThroughputBenchmark), the
 * same parallelism, its check run's results compared with the DataStream variant's (a difference fails the run). A
 * mode whose job fails is reported with its error instead of a figure.
 */
async function runPyflink(scenario, javaResult, classpath, python, { runs = quick ? 1 : 3 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-bench-pyflink-'));
  try {
    const n = records(scenario);
    writeInput(path.join(dir, 'input'), n, scenario.parallelism, classpath);
    writeInput(path.join(dir, 'check'), checkRecords(n), scenario.parallelism, classpath);
    const byMode = {};
    for (const mode of PYFLINK_MODES) {
      log(`${scenario.id}: PyFlink, ${mode} mode`);
      const { code, line, err } = await runForLine(python, [path.join(root, 'bench', 'pyflink', 'throughput.py'), '--scenario', scenario.fn,
        '--input', path.join(dir, 'input'), '--check-input', path.join(dir, 'check'), '--records', String(n), '--check-records', String(checkRecords(n)),
        '--runs', String(runs), '--parallelism', String(scenario.parallelism), '--mode', mode, '--max-seconds', quick ? '120' : '900'],
      '{"scenario"', { ...process.env, PATH: `${path.dirname(python)}:${process.env.PATH}` });
      // a failed job: the Java or Python exception's message, the last line that names one
      const cause = code === 0 && line ? null : err.split('\n').filter((l) => /(Exception|Error)\b.*:/.test(l)).at(-1)?.trim() ?? `exit ${code}`;
      if (cause) log(`${scenario.id}: PyFlink ${mode} mode failed: ${cause}`);
      const result = cause ? { mode, error: cause.slice(0, 400) } : JSON.parse(line);
      if (!result.error) {
        const disagreement = digestDisagreement(result.check.pyflink, javaResult.check.java);
        if (disagreement) throw new Error(`${scenario.id}: PyFlink (${mode}) results differ from the DataStream variant's: ${disagreement}`);
        log(`${scenario.id}: PyFlink ${mode} ${result.pyflink.median} records/s on Flink ${result.flinkVersion}`);
      }
      byMode[mode] = result;
    }
    return byMode;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `use(url)` with bench/enrich-server (Go, built here with the machine's `go`) answering on a free loopback port,
 * and adds the server's own counts to the result: the calls it answered and the most it held open at once, which
 * shows whether a variant reached the capacity of 100 in flight.
 */
async function withEnrichServer(use) {
  const binary = path.join(root, 'bench', '.bin', 'enrich-server');
  log('building bench/enrich-server (go build)');
  execFileSync('go', ['build', '-o', binary, '.'], { cwd: path.join(root, 'bench', 'enrich-server'), stdio: ['ignore', 'ignore', 'inherit'] });
  const server = spawn(binary, ['-delay', '10ms'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  server.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => server.on('exit', resolve));
  try {
    while (!out.includes('\n')) {
      if (server.exitCode !== null) throw new Error(`enrich-server exited with ${server.exitCode}`);
      await sleep(50);
    }
    const port = /^listening (\d+)/.exec(out)?.[1];
    if (!port) throw new Error(`enrich-server said ${JSON.stringify(out)}`);
    const result = await use(`http://127.0.0.1:${port}`);
    server.kill('SIGTERM');
    await exited;
    return { ...result, server: JSON.parse(out.trim().split('\n').at(-1)) };
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
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

/**
 * End to end through a real Kafka broker (local stack, temporary data directory, stopped after): the stateless map
 * with the runtime's Kafka source and exactly-once sinks, TypeScript against Java.
 */
async function kafkaEndToEnd(classpath) {
  const { startKafka } = await import(path.join(root, 'packages/local-stack/kafka.mjs'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-bench-kafka-'));
  const kafka = await startKafka({ dataDir, port: 0, classpathFile: path.join(runtime, 'target', 'kafka-broker.classpath') });
  try {
    return await runJava('dev.flinkfn.runtime.bench.KafkaBenchmark', ['--bootstrap', kafka.bootstrap, '--artifact', flinkfnBuild('stateless-map').file,
      '--sidecar', sidecarJs, '--records', String(quick ? 50_000 : 500_000), '--runs', quick ? '1' : '3', '--checkpoint-interval-ms', '1000'], classpath, '{"kafka"');
  } finally {
    await kafka.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * CPU time of processes outside this run (not descendants of this process), sampled from /proc every 2 s: the
 * machine is shared, and another process's load changes the figures.
 */
function otherCpuMonitor() {
  const ticks = 100; // USER_HZ
  const last = new Map();
  const samples = [];
  let lastAt = performance.now();
  const sample = () => {
    const parent = new Map();
    const cpu = new Map();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        parent.set(Number(name), Number(fields[1]));
        cpu.set(Number(name), Number(fields[11]) + Number(fields[12]));
      } catch {
        // gone meanwhile
      }
    }
    const ours = (pid) => {
      for (let p = pid, depth = 0; p > 1 && depth < 50; p = parent.get(p) ?? 0, depth++) if (p === process.pid) return true;
      return false;
    };
    let other = 0;
    for (const [pid, t] of cpu) {
      if (!ours(pid) && last.has(pid)) other += Math.max(0, t - last.get(pid));
    }
    const now = performance.now();
    if (last.size > 0) samples.push(other / ticks / ((now - lastAt) / 1000));
    last.clear();
    for (const [pid, t] of cpu) last.set(pid, t);
    lastAt = now;
  };
  sample();
  const timer = setInterval(sample, 2000);
  timer.unref();
  return {
    /** Cores used by other processes: mean and max over 2-s samples since the last call, then starts again. */
    take() {
      sample();
      const taken = samples.splice(0);
      return { meanCores: taken.length ? +(taken.reduce((a, b) => a + b, 0) / taken.length).toFixed(2) : 0, maxCores: taken.length ? +Math.max(...taken).toFixed(2) : 0 };
    },
    stop: () => clearInterval(timer),
  };
}

async function waitQuiet(minutes) {
  const deadline = Date.now() + minutes * 60_000;
  while (os.loadavg()[0] >= 1.2 && Date.now() < deadline) {
    log(`load average ${os.loadavg()[0].toFixed(2)} (1 min): waiting for < 1.2`);
    await sleep(30_000);
  }
}

const fmt = {
  // thousands; below 10k with one decimal and below 1k as is (PyFlink's process mode on windows)
  k: (n) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`),
  ms: (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)),
  kib: (n) => (n < 1024 ? `${Math.round(n)} B` : `${(n / 1024).toFixed(0)} KiB`),
};

function markdown(results) {
  const { k, ms, kib } = fmt;
  const out = [
    `Measured ${results.date} on ${results.machine} (${quick ? 'QUICK run, not comparable' : `median of ${results.runs} runs after a warm-up, min–max in brackets`}); ` +
      `load average before the run ${results.load.before.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min), other processes used ${results.load.otherCpu.meanCores} cores on average during it (max ${results.load.otherCpu.maxCores}); the whole command took ${(results.durationSeconds / 60).toFixed(1)} min.`,
  ];
  if (results.notes.length) out.push('', ...results.notes.map((n) => `Note: ${n}`));
  if (results.throughput.length) {
    const range = (v) => `${k(v.median)} (${k(v.min)}–${k(v.max)})`;
    const cpuPerRecord = (r) => (r.js.cpuUsPerRecord && r.java.cpuUsPerRecord
      ? `${r.js.cpuUsPerRecord.toFixed(1)} / ${r.java.cpuUsPerRecord.toFixed(1)} (**${(r.java.cpuUsPerRecord / r.js.cpuUsPerRecord).toFixed(2)}**)` : '—');
    out.push('', 'Throughput, in-job generator and discarding sink, records/s over the job\'s net runtime; CPU per record is the median over the runs of the CPU time of the benchmark\'s JVM and of the sidecars it started, per record (TypeScript / Java, and Java ÷ TypeScript: the ratio in CPU, which a loaded machine changes less than the throughput):', '',
      '| scenario | TypeScript via sidecar, records/s | Java DataStream, records/s | JS ÷ DataStream | target | CPU µs per record, TS / Java (ratio) |', '|---|---|---|---|---|---|',
      ...results.throughput.map((r) => {
        const s = SCENARIOS_ALL.find((x) => x.id === r.id);
        return `| ${s.title} | ${range(r.js)} | ${range(r.java)} | **${r.ratio.toFixed(2)}** | ${s.target ?? '—'} | ${cpuPerRecord(r)} |`;
      }));
    const anchors = results.throughput.filter((r) => r.sql || Object.keys(r.pyflink ?? {}).length > 0);
    if (anchors.length) {
      const versions = results.flinkVersions;
      const py = (r, mode) => {
        const p = r.pyflink?.[mode];
        if (!p) return ['—', '—'];
        if (p.error) return [`fails: \`${p.error.replaceAll('|', '\\|')}\``, '—'];
        const fewer = p.runs < results.runs ? `, ${p.runs} run${p.runs > 1 ? 's' : ''} (fewer: slow)` : '';
        return [`${range(p.pyflink)}${fewer}`, `**${(r.js.median / p.pyflink.median).toFixed(2)}**`];
      };
      out.push('', `Anchors, what a user would pick instead of flinkfn, on the same records and parallelism, records/s over the job's net runtime as above (a check run's results must agree with the Java DataStream variant's: number, keys, window starts, counts, averages, totals). ` +
        `Flink SQL: window TVFs (TUMBLE, HOP) with mini-batch on and the local-global split (\`table.optimizer.agg-phase-strategy\` TWO_PHASE), parsing with the same Jackson map as the Java variant, in the same JVM on Flink ${versions.java}. ` +
        `PyFlink ${versions.pyflink ?? '(not run)'}: its DataStream API (json.loads/dumps, a Python AggregateFunction and ProcessWindowFunction, \`python.state.cache-size\` 100,000) on the Flink it bundles, ${versions.pyflink ?? '—'}, in its own JVM (a local MiniCluster), reading the generator's records from files written before the run; process mode runs the Python in a worker process as a deployed job does (not in the client's process, PyFlink's default in a MiniCluster), thread mode in the JVM (PEMJA). Where a PyFlink mode would take more than ${quick ? '2' : '15'} minutes for all its runs, it runs fewer (never fewer records):`, '',
        '| scenario | TypeScript | Flink SQL | JS ÷ SQL | PyFlink, process | JS ÷ PyFlink process | PyFlink, thread | JS ÷ PyFlink thread |', '|---|---|---|---|---|---|---|---|',
        ...anchors.map((r) => {
          const s = SCENARIOS_ALL.find((x) => x.id === r.id);
          const sql = r.sql ? [range(r.sql), `**${r.ratioSql.toFixed(2)}**`] : ['—', '—'];
          return `| ${s.title} | ${range(r.js)} | ${sql.join(' | ')} | ${py(r, 'process').join(' | ')} | ${py(r, 'thread').join(' | ')} |`;
        }));
    }
  }
  if (results.asyncEnrichment) {
    const r = results.asyncEnrichment;
    const latency = (l) => `${l.p50} / ${l.p90} / ${l.p99} / ${l.max}`;
    out.push('', `Async enrichment: each of ${k(r.records)} events makes an HTTP call to a loopback server that answers after ${r.delayMs} ms, ${r.capacity} calls in flight, ordered, p=1 — TypeScript \`async handle\` with \`fetch\` through the sidecar against Java's \`AsyncDataStream.orderedWait\` with the JDK HttpClient, both calling the same Go server (bench/enrich-server; it answered ${k(r.server.calls)} calls and held at most ${r.server.maxOpen} open at once); latency from generator to sink, ms (p50 / p90 / p99 / max):`, '',
      '| scenario | TypeScript via sidecar, records/s | Java, records/s | ratio | target | latency TS | latency Java |', '|---|---|---|---|---|---|---|',
      `| 10 ms enrichment call, capacity 100 | ${k(r.js.median)} (${k(r.js.min)}–${k(r.js.max)}) | ${k(r.java.median)} (${k(r.java.min)}–${k(r.java.max)}) | **${r.ratio.toFixed(2)}** | 0.8 | ${latency(r.js.latencyMs)} | ${latency(r.java.latencyMs)} |`);
  }
  if (results.kafka) {
    const r = results.kafka;
    out.push('', `End to end through a local Kafka broker (KRaft, one partition): the stateless map reading ${k(r.records)} pre-filled 100-byte orders with the runtime's Kafka source and writing them with its exactly-once (transactional) Kafka sinks, checkpoints every ${r.checkpointIntervalMs} ms, p=1; records/s over the job's net runtime including the final commit, every run's committed output counted (read_committed):`, '',
      '| scenario | TypeScript via sidecar, records/s | Java, records/s | ratio |', '|---|---|---|---|',
      `| stateless map, Kafka → Kafka, exactly-once | ${k(r.js.median)} (${k(r.js.min)}–${k(r.js.max)}) | ${k(r.java.median)} (${k(r.java.min)}–${k(r.java.max)}) | **${r.ratio.toFixed(2)}** |`);
  }
  if (results.latency.length) {
    out.push('', 'Latency at half of the TypeScript maximum throughput measured above (rate-limited generator, MiniCluster, p=1), ms; median over the runs of each run\'s percentile, min–max of the runs in brackets:', '',
      '| scenario | measured | variant | p50 | p95 | p99 | max |', '|---|---|---|---|---|---|---|');
    for (const l of results.latency) {
      const what = l.scenario === 'stateless-map'
        ? `event creation → result in the sink, ${k(l.rate)} records/s, ${l.java.runs[0].samples.toLocaleString('en-US')} results per run after ${l.warmup} s`
        : `watermark that closes a window → its last result (10,000 keys) in the sink, ${k(l.rate)} records/s, event time = wall time, ${l.java.runs[0].samples} windows per run (so p95 and p99 are a run's slowest window)`;
      const title = SCENARIOS_ALL.find((x) => x.fn === l.scenario)?.title ?? l.scenario;
      const cell = (v, q) => `${ms(v[q].median)} (${ms(v[q].min)}–${ms(v[q].max)})`;
      out.push(`| ${title} | ${what} | TypeScript | ${cell(l.js, 'p50')} | ${cell(l.js, 'p95')} | ${cell(l.js, 'p99')} | ${ms(l.js.max.max)} |`);
      out.push(`| | | Java | ${cell(l.java, 'p50')} | ${cell(l.java, 'p95')} | ${cell(l.java, 'p99')} | ${ms(l.java.max.max)} |`);
      out.push(`| | | **added (TS − Java)** | ${ms(l.js.p50.median - l.java.p50.median)} | ${ms(l.js.p95.median - l.java.p95.median)} | **${ms(l.js.p99.median - l.java.p99.median)}** | |`);
    }
  }
  if (results.checkpoints.length) {
    const c0 = results.checkpoints[0];
    out.push('', `Checkpoints every ${c0.intervalMs} ms at ${k(c0.rate)} records/s (hashmap state backend, file checkpoint storage in a temporary directory, MiniCluster, p=1; event time = wall time, so the tumbling count holds all 10,000 keys), ${c0.runs} run(s) of ${c0.seconds} s, checkpoints after the first ${c0.warmup} s; end-to-end duration and state size as Flink's checkpoint statistics report them:`, '',
      '| scenario | variant | completed (failed) per run | duration, median | duration, max | state size, median |', '|---|---|---|---|---|---|');
    for (const c of results.checkpoints) {
      const title = SCENARIOS_ALL.find((x) => x.fn === c.scenario)?.title ?? c.scenario;
      for (const v of ['js', 'java']) {
        const r = c[v];
        out.push(`| ${v === 'js' ? title : ''} | ${v === 'js' ? 'TypeScript' : 'Java'} | ${r.runs.map((x) => `${x.completed} (${x.failed})`).join(', ')} | ${r.durationMedianMs.median} ms (${r.durationMedianMs.min}–${r.durationMedianMs.max}) | ${r.durationMaxMs.max} ms | ${kib(r.stateSizeMedianBytes.median)} |`);
      }
    }
  }
  if (results.deploy) {
    out.push('', `\`flinkfn deploy\` → job RUNNING on a warm local cluster (iot-sensors, ${results.deploy.samples} fresh deploys): median ${results.deploy.warm.runningAfterMs.median} ms (${results.deploy.warm.runningAfterMs.min}–${results.deploy.warm.runningAfterMs.max}); every task running (sidecars up, Kafka producers initialised) ${results.deploy.warm.allTasksAfterSubmitMs.median} ms after submission; whole command ${results.deploy.warm.totalMs.median} ms. The first deploy to a new cluster (runtime jar upload, S3 plugin loading): ${results.deploy.first.totalMs} ms.`);
  }
  if (results.protocol) out.push('', `Sidecar protocol alone (one sidecar, identity function, bundles of 1,000, 4 in flight): ${k(results.protocol.recordsPerSecond)} records/s.`);
  if (results.sidecarCosts) {
    out.push('', 'The sidecar\'s own cost per item, in-process (decode the request frame, run the bench functions through the host, encode the response; no socket, no JVM; bench/sidecar-costs.ts):', '');
    for (const cost of results.sidecarCosts) out.push(`- ${cost.title}: ${(cost.nsPerItem / 1000).toFixed(2)} µs`);
    out.push('');
  }
  if (results.build) out.push(`\`flinkfn build\` of an example, whole process: median ${results.build.medianMs} ms (${results.build.minMs}–${results.build.maxMs}).`);
  if (existsSync(path.join(root, 'bench', 'results', 'profile.md'))) out.push('', 'Where the TypeScript variant\'s time goes (JFR, node --cpu-prof, event-loop utilisation): [bench/results/profile.md](results/profile.md), made by `node --import tsx bench/profile.mjs`.');
  if (results.throughput.length) out.push('', '![throughput](results/throughput.svg)');
  return out.join('\n');
}

function svg(results) {
  const rows = results.throughput.map((r) => ({ label: SCENARIOS.find((x) => x.id === r.id).title, js: r.js.median, java: r.java.median }));
  if (results.kafka) rows.push({ label: 'stateless map via Kafka (EOS)', js: results.kafka.js.median, java: results.kafka.java.median });
  const max = Math.max(...rows.flatMap((r) => [r.js, r.java]));
  const width = 640;
  const bar = 14;
  const rowHeight = 48;
  const left = 230;
  const scale = (v) => Math.round(((width - left - 70) * v) / max);
  const parts = rows.map((r, i) => {
    const y = 30 + i * rowHeight;
    return [
      `<text x="8" y="${y + 18}" font-size="12">${r.label}</text>`,
      `<rect x="${left}" y="${y}" width="${scale(r.js)}" height="${bar}" fill="#3178c6"/>`,
      `<text x="${left + scale(r.js) + 4}" y="${y + 11}" font-size="11">${Math.round(r.js / 1000)}k TS</text>`,
      `<rect x="${left}" y="${y + bar + 2}" width="${scale(r.java)}" height="${bar}" fill="#e76f00"/>`,
      `<text x="${left + scale(r.java) + 4}" y="${y + bar + 13}" font-size="11">${Math.round(r.java / 1000)}k Java</text>`,
    ].join('');
  });
  const height = 40 + rows.length * rowHeight;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="8" y="16" font-size="13" font-weight="bold">records/s, TypeScript via sidecar (blue) vs Java (orange)</text>${parts.join('')}</svg>\n`;
}

if (waitQuietMinutes > 0) await waitQuiet(waitQuietMinutes);
const loadBefore = os.loadavg();
const notes = [];
if (loadBefore[0] >= 1.2) notes.push(`the machine was not quiet when the run started (1-minute load average ${loadBefore[0].toFixed(2)}); figures may be lower and noisier than on an idle machine.`);
const started = Date.now();
const monitor = otherCpuMonitor();
const phaseLoad = {};
const phase = (id) => {
  phaseLoad[id] = { loadAverage1m: +os.loadavg()[0].toFixed(2) };
};
const endPhase = (id) => Object.assign(phaseLoad[id], { otherCpu: monitor.take() });
/** Runs one optional phase (if --only wants it) between phase()/endPhase(); null when skipped. */
async function optionalPhase(id, label, run) {
  if (!wants(id)) return null;
  phase(id);
  log(label);
  const result = await run();
  endPhase(id);
  return result;
}

const classpath = javaClasspath();
const python = SCENARIOS.length && !noAnchors ? pyflinkPython() : null;
monitor.take(); // compiling and installing are not measured
const throughput = [];
const flinkVersions = {};
for (const scenario of SCENARIOS) {
  phase(scenario.id);
  log(`${scenario.id}: building the TypeScript function`);
  const built = flinkfnBuild(scenario.fn);
  log(`${scenario.id}: running TypeScript, Java${scenario.sql && !noAnchors ? ' and Flink SQL' : ''} variants`);
  const result = await runThroughput(scenario, built.file, classpath);
  log(`${scenario.id}: ratio ${result.ratio.toFixed(2)} (TS ${Math.round(result.js.median)} / Java ${Math.round(result.java.median)} records/s` +
    (result.js.cpuUsPerRecord ? `; CPU ${result.js.cpuUsPerRecord.toFixed(2)} / ${result.java.cpuUsPerRecord.toFixed(2)} µs per record, ratio ${(result.java.cpuUsPerRecord / result.js.cpuUsPerRecord).toFixed(2)}` : '') + ')' +
    (result.sql ? `, JS ÷ SQL ${result.ratioSql.toFixed(2)} (SQL ${result.sql.median} records/s, plan ${result.check.sqlPlan})` : ''));
  flinkVersions.java = result.flinkVersion;
  const pyflink = noAnchors ? {} : await runPyflink(scenario, result, classpath, python);
  const pyflinkVersion = Object.values(pyflink).find((p) => p.flinkVersion)?.flinkVersion;
  if (pyflinkVersion) flinkVersions.pyflink = pyflinkVersion;
  throughput.push({ id: scenario.id, ...result, pyflink, ratioPyflink: Object.fromEntries(Object.entries(pyflink).map(([mode, p]) => [mode, p.error ? null : +(result.js.median / p.pyflink.median).toFixed(3)])) });
  endPhase(scenario.id);
}

/** Half the TypeScript maximum of this run, or of a quick calibration when the throughput scenario was skipped. */
async function halfOfMaximum(id) {
  const measured = throughput.find((t) => t.id === id);
  if (measured) return Math.round(measured.js.median / 2);
  log(`${id}: calibrating the TypeScript maximum (not measured in this run)`);
  const scenario = SCENARIOS_ALL.find((s) => s.id === id);
  const calibration = await runThroughput({ ...scenario, records: scenario.records / 2 }, flinkfnBuild(scenario.fn).file, classpath, { runs: 1 });
  return Math.round(calibration.js.median / 2);
}

const latency = [];
if (wants('latency')) {
  for (const fn of ['stateless-map', 'tumbling-count']) {
    phase(`latency-${fn}`);
    const rate = await halfOfMaximum(fn);
    log(`latency: ${fn} at ${rate} records/s (half the TypeScript maximum)`);
    const result = await runJava('dev.flinkfn.runtime.bench.LatencyBenchmark', ['--mode', 'latency', '--scenario', fn, '--artifact', flinkfnBuild(fn).file,
      '--sidecar', sidecarJs, '--rate', String(rate), '--seconds', quick ? '5' : fn === 'stateless-map' ? '12' : '15', '--warmup', quick ? '2' : '3', '--runs', quick ? '1' : '3'], classpath, '{"mode"');
    log(`latency: ${fn} p99 TS ${result.js.p99.median} ms, Java ${result.java.p99.median} ms`);
    latency.push(result);
    endPhase(`latency-${fn}`);
  }
}
const checkpoints = [];
if (wants('checkpoints')) {
  for (const fn of ['stateless-map', 'tumbling-count']) {
    phase(`checkpoints-${fn}`);
    log(`checkpoints: ${fn}`);
    const result = await runJava('dev.flinkfn.runtime.bench.LatencyBenchmark', ['--mode', 'checkpoints', '--scenario', fn, '--artifact', flinkfnBuild(fn).file,
      '--sidecar', sidecarJs, '--rate', '20000', '--seconds', quick ? '5' : '12', '--warmup', quick ? '1' : '3', '--runs', quick ? '1' : '2', '--interval-ms', '1000'], classpath, '{"mode"');
    log(`checkpoints: ${fn} median duration TS ${result.js.durationMedianMs.median} ms, Java ${result.java.durationMedianMs.median} ms`);
    checkpoints.push(result);
    endPhase(`checkpoints-${fn}`);
  }
}
const asyncEnrichment = await optionalPhase('async-enrichment', 'async enrichment: a 10 ms HTTP call per event, capacity 100', () =>
  withEnrichServer((url) => runJava('dev.flinkfn.runtime.bench.AsyncEnrichmentBenchmark', ['--artifact', flinkfnBuild('async-enrichment').file, '--sidecar', sidecarJs,
    '--url', url, '--records', quick ? '10000' : '100000', '--runs', quick ? '1' : '3'], classpath, '{"scenario"')));
if (asyncEnrichment) log(`async enrichment: ratio ${asyncEnrichment.ratio.toFixed(2)} (TS ${Math.round(asyncEnrichment.js.median)} / Java ${Math.round(asyncEnrichment.java.median)} records/s; server: ${asyncEnrichment.server.calls} calls, at most ${asyncEnrichment.server.maxOpen} open)`);
const kafka = await optionalPhase('kafka', 'end to end through a local Kafka broker', () => kafkaEndToEnd(classpath));
if (kafka) log(`kafka: ratio ${kafka.ratio} (TS ${kafka.js.median} / Java ${kafka.java.median} records/s)`);
const deploy = await optionalPhase('deploy', 'flinkfn deploy -> RUNNING on a local stack', deployTimes);
const protocol = await optionalPhase('protocol', 'sidecar protocol alone', protocolAlone);
const sidecarCosts = await optionalPhase('sidecar-costs', 'sidecar cost per request type, in-process', async () =>
  (await import(path.join(root, 'bench', 'sidecar-costs.ts'))).sidecarCosts({ quick }));
const build = await optionalPhase('build', 'flinkfn build times', async () => buildTimes());
monitor.stop();

const others = Object.values(phaseLoad).map((p) => p.otherCpu);
const results = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
  quick,
  runs: quick ? 1 : 3,
  // Flink that each variant ran on: flinkfn, Java DataStream and Flink SQL on the runtime's (java); PyFlink on its own
  flinkVersions,
  throughput,
  latency,
  checkpoints,
  asyncEnrichment,
  kafka,
  deploy,
  protocol,
  sidecarCosts,
  build,
  load: {
    before: loadBefore.map((l) => +l.toFixed(2)),
    after: os.loadavg().map((l) => +l.toFixed(2)),
    // cores used by processes outside this run, sampled every 2 s (phase means weighted equally)
    otherCpu: {
      meanCores: others.length ? +(others.reduce((a, o) => a + o.meanCores, 0) / others.length).toFixed(2) : 0,
      maxCores: others.length ? Math.max(...others.map((o) => o.maxCores)) : 0,
    },
    phases: phaseLoad,
  },
  notes,
  durationSeconds: Math.round((Date.now() - started) / 1000),
};
if (results.load.otherCpu.meanCores >= 0.2) notes.push(`other processes used ${results.load.otherCpu.meanCores} cores on average during the run (max ${results.load.otherCpu.maxCores}) of the machine's ${os.cpus().length}; see load.phases in the run's JSON for where.`);
const dir = path.join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
// a quick run's figures are not comparable: they go to quick.{json,md} (gitignored), never over latest.*; an --only
// run measures some phases for real and goes to only-<ids>.{json,md}, so that it does not drop the others from latest.*
const name = quick ? 'quick' : only ? `only-${only.join('+')}` : 'latest';
writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
const table = markdown(results);
writeFileSync(path.join(dir, `${name}.md`), table.replace('results/throughput.svg', 'throughput.svg').replace('(results/profile.md)', '(profile.md)') + '\n');
if (results.throughput.length && !quick && !only) writeFileSync(path.join(dir, 'throughput.svg'), svg(results));
if (!quick && !only) {
  const readme = path.join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const updated = text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${table.replace('results/throughput.svg', 'bench/results/throughput.svg').replace('(results/profile.md)', '(bench/results/profile.md)')}\n<!-- bench:end -->`);
  writeFileSync(readme, updated);
}
log(`done in ${results.durationSeconds} s: bench/results/${name}.{json,md}${quick || only ? '' : ', bench/results/throughput.svg'}`);
