#!/usr/bin/env node
// Where the TypeScript variant's time goes: runs ThroughputBenchmark's TypeScript variant only (a warm-up and one
// measured run) under Java Flight Recorder, with every sidecar under node --cpu-prof and bench/elu.mjs (event-loop
// utilisation and CPU seconds per sidecar), and writes a summary to bench/results/profile.md.
//
//   node --import tsx bench/profile.mjs [--scenarios stateless-map,tumbling-count]
//
// Needs the runtime's test classes compiled (bench/run.mjs does that, or mvn test-compile).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runtime = path.join(root, 'packages', 'runtime-flink');
const args = process.argv.slice(2);
const scenarios = (args.includes('--scenarios') ? args[args.indexOf('--scenarios') + 1] : 'stateless-map,tumbling-count').split(',');
/** Records per scenario, as in bench/run.mjs's scenario table (a scenario missing here could not be profiled). */
const RECORDS = { 'stateless-map': 1_000_000, 'tumbling-count': 500_000, 'sliding-average': 300_000, 'session-windows': 300_000 };
const log = (line) => process.stderr.write(`› ${line}\n`);

const classpathFile = path.join(runtime, 'target', 'test-classpath.txt');
if (!existsSync(classpathFile)) throw new Error('run bench/run.mjs once (or mvn test-compile and build-classpath) first');
const classpath = [path.join(runtime, 'target/classes'), path.join(runtime, 'target/test-classes'), readFileSync(classpathFile, 'utf8').trim()].join(':');
const opens = (/<flink\.java17\.opens>([^<]+)<\/flink\.java17\.opens>/.exec(readFileSync(path.join(runtime, 'pom.xml'), 'utf8'))?.[1] ?? '').trim().split(/\s+/);

function build(fn) {
  return JSON.parse(execFileSync(process.execPath, [path.join(root, 'packages/cli/bin/flinkfn.js'), 'build', `functions/${fn}.ts`, '--root', path.join(root, 'bench'), '--json'], { encoding: 'utf8' })).file;
}

function run(cmd, argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}:\n${err.slice(-3000)}`))));
  });
}

const pct = (n, total) => `${((100 * n) / total).toFixed(1)} %`;

/** JFR: execution samples by thread, the hottest methods (self) of the busiest thread, and JVM CPU. */
function summariseJfr(file) {
  const json = JSON.parse(execFileSync('jfr', ['print', '--json', '--stack-depth', '64', '--events', 'jdk.ExecutionSample,jdk.CPULoad', file], { encoding: 'utf8', maxBuffer: 1 << 30 }));
  const events = json.recording.events;
  for (const e of events) for (const f of e.values.stackTrace?.frames ?? []) f.method.type.name = f.method.type.name.replaceAll('/', '.');
  const samples = events.filter((e) => e.type === 'jdk.ExecutionSample');
  const byThread = new Map();
  for (const s of samples) {
    const name = (s.values.sampledThread?.javaName ?? '?').replace(/\s*\(\d+\/\d+\)#\d+$/, '').replace(/-\d+$/, '-N');
    if (!byThread.has(name)) byThread.set(name, []);
    byThread.get(name).push(s.values.stackTrace?.frames ?? []);
  }
  const threads = [...byThread.entries()].sort((a, b) => b[1].length - a[1].length);
  const frame = (f) => `${f.method.type.name.replace(/^.*\./, '')}.${f.method.name}`;
  const top = (stacks, pick) => {
    const counts = new Map();
    for (const st of stacks) {
      const keys = pick(st);
      for (const k of new Set(keys)) counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => b[1] - a[1]);
  };
  // the busiest Flink task thread (main only sets the jobs up: class loading, graph building)
  const [busiestName, busiest] = threads.find(([name]) => name !== 'main') ?? threads[0];
  const self = top(busiest, (st) => (st[0] ? [frame(st[0])] : []));
  // inclusive: share of the busiest thread's samples with a frame of these classes on the stack
  const groups = {
    'sidecar client: framing, codec, socket I/O (dev.flinkfn.runtime.sidecar)': (f) => f.method.type.name.startsWith('dev.flinkfn.runtime.sidecar.'),
    'flinkfn operators (dev.flinkfn.runtime.operators)': (f) => f.method.type.name.startsWith('dev.flinkfn.runtime.operators.'),
    'Flink network/serialization (org.apache.flink.runtime.io, typeutils)': (f) => /^org\.apache\.flink\.(runtime\.io|api\.common\.typeutils|api\.java\.typeutils)/.test(f.method.type.name),
    'Flink keyed state / timers (runtime.state, streaming.api.operators.InternalTimer*)': (f) => /^org\.apache\.flink\.runtime\.state|InternalTimer|HeapPriorityQueue/.test(f.method.type.name),
    'generator source (datagen, ThroughputBenchmark.order)': (f) => /datagen|ThroughputBenchmark/.test(f.method.type.name),
  };
  const inclusive = Object.entries(groups).map(([label, test]) => [label, busiest.filter((st) => st.some(test)).length]);
  const cpu = events.filter((e) => e.type === 'jdk.CPULoad');
  const mean = (k) => cpu.reduce((a, e) => a + e.values[k], 0) / Math.max(1, cpu.length);
  return {
    total: samples.length,
    threads: threads.slice(0, 6).map(([n, st]) => [n, st.length]),
    busiestName,
    busiestCount: busiest.length,
    self: self.slice(0, 12),
    inclusive,
    jvmCpu: mean('jvmUser') + mean('jvmSystem'),
    machineCpu: mean('machineTotal'),
  };
}

const sources = new Map();
/** The first characters of a profiled function's line, to tell anonymous functions apart. */
function sourceLine(url, line) {
  if (!url.startsWith('file://')) return '';
  try {
    if (!sources.has(url)) sources.set(url, readFileSync(fileURLToPath(url), 'utf8').split('\n'));
    const text = sources.get(url)[line]?.trim() ?? '';
    return text ? ` \`${text.slice(0, 70).replaceAll('`', "'")}\`` : '';
  } catch {
    return '';
  }
}

/** node --cpu-prof: self time by function (sampled), without idle. */
function summariseCpuProfile(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const self = new Map();
  const dt = new Map();
  profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  for (const node of profile.nodes) {
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${path.basename(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = where ? `${name} ${where}${sourceLine(cf.url, cf.lineNumber)}` : name;
    self.set(key, (self.get(key) ?? 0) + (dt.get(node.id) ?? 0));
  }
  const idle = self.get('(idle)') ?? 0;
  self.delete('(idle)');
  const busy = [...self.values()].reduce((a, b) => a + b, 0);
  return { busyMs: busy / 1000, idleMs: idle / 1000, top: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, us]) => [k, us / 1000]) };
}

const out = [`# Profile of the TypeScript variant (${new Date().toISOString()}, ${os.cpus().length} cores, load average before ${os.loadavg()[0].toFixed(2)})`, '',
  'ThroughputBenchmark --variant js (a warm-up run of a tenth of the records, then one measured run), JFR `settings=profile`; each sidecar under `node --cpu-prof` and bench/elu.mjs.'];
for (const scenario of scenarios) {
  if (!RECORDS[scenario]) throw new Error(`no record count for scenario ${scenario} (known: ${Object.keys(RECORDS).join(', ')})`);
  const dir = mkdtempSync(path.join(os.tmpdir(), `flinkfn-profile-${scenario}-`));
  try {
    const artifact = build(scenario);
    const jfr = path.join(dir, 'run.jfr');
    const eluFile = path.join(dir, 'elu.jsonl');
    log(`${scenario}: profiling (JFR + node --cpu-prof)`);
    const sidecar = `--cpu-prof --cpu-prof-dir=${path.join(dir, 'node')} --import ${path.join(root, 'bench', 'elu.mjs')} ${path.join(root, 'packages/sidecar/bin/flinkfn-sidecar.js')}`;
    const stdout = await run('java', [...opens, '-Xmx2g', `-XX:StartFlightRecording=filename=${jfr},settings=profile,dumponexit=true`,
      `-Dlog4j2.configurationFile=${path.join(runtime, 'src/test/resources/log4j2-test.properties')}`, '-cp', classpath,
      'dev.flinkfn.runtime.bench.ThroughputBenchmark', '--scenario', scenario, '--artifact', artifact, '--sidecar', sidecar,
      '--records', String(RECORDS[scenario]), '--runs', '1', '--variant', 'js'], { FLINKFN_BENCH_ELU_FILE: eluFile });
    const result = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{"scenario"')));
    const j = summariseJfr(jfr);
    const elu = existsSync(eluFile) ? readFileSync(eluFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
    // CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile: matched to the ELU lines by pid
    const profiles = readdirSync(path.join(dir, 'node')).filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ pid: Number(f.split('.')[3]), ...summariseCpuProfile(path.join(dir, 'node', f)) }));
    out.push('', `## ${scenario}: ${Math.round(result.js.median / 1000)}k records/s (TypeScript, under the profilers)`, '',
      `JVM CPU (jdk.CPULoad, mean): ${(100 * j.jvmCpu).toFixed(0)} % of the machine; whole machine ${(100 * j.machineCpu).toFixed(0)} %.`, '',
      `JFR execution samples (one per 10 ms per thread running Java code; JIT compiler and GC threads are not sampled), ${j.total} in all, by thread: ${j.threads.map(([n, c]) => `\`${n}\` ${c}`).join('; ')}.`, '',
      `Busiest thread \`${j.busiestName}\`, stacks containing (inclusive):`, '',
      ...j.inclusive.map(([label, c]) => `- ${label}: ${pct(c, j.busiestCount)}`), '',
      'Its hottest methods (self):', '', ...j.self.map(([m, c]) => `- ${m}: ${pct(c, j.busiestCount)}`), '',
      'Sidecars of the measured run (one per JS operator; the warm-up run\'s are left out), event-loop utilisation and CPU from bench/elu.mjs, self time from node --cpu-prof:');
    const sidecars = profiles.map((p) => ({ ...p, elu: elu.find((e) => e.pid === p.pid) })).sort((a, b) => (b.elu?.wallSeconds ?? 0) - (a.elu?.wallSeconds ?? 0) || b.busyMs - a.busyMs);
    const operators = scenario === 'tumbling-count' ? 2 : 1;
    for (const p of sidecars.slice(0, operators).sort((a, b) => b.busyMs - a.busyMs)) {
      out.push('', `- sidecar pid ${p.pid}: ${p.elu ? `event-loop utilisation ${p.elu.eventLoopUtilization}, ${p.elu.cpuSeconds} CPU s in ${p.elu.wallSeconds} s` : 'no ELU line'}; ${p.busyMs.toFixed(0)} ms sampled busy. Self time:`,
        ...p.top.map(([k, ms]) => `  - ${k}: ${ms.toFixed(0)} ms (${pct(ms, p.busyMs)})`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const text = out.join('\n') + '\n';
writeFileSync(path.join(root, 'bench', 'results', 'profile.md'), text);
process.stdout.write(text);
