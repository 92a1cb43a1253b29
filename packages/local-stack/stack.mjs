#!/usr/bin/env node
// The local stack behind `flinkfn local up|down|status|logs` and the default deploy target: S3Proxy and a
// Kafka broker (started in parallel), then a Flink session cluster configured for that S3 server, all on
// 127.0.0.1 under one root folder:  <root>/s3, <root>/kafka, <root>/flink, and <root>/stack.json with the
// endpoints. Idempotent: services that run are reused. `down` stops only what runs under <root>.
//
//   node packages/local-stack/stack.mjs up|down|status|logs --root <dir> [--flink-port N] [--kafka-port N] [--s3-port N] [--json]
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run, readJson, tail, noop } from './common.mjs';
import { startFlink, stopFlink, flinkStatus } from './flink.mjs';
import { startKafka, stopKafka, kafkaStatus } from './kafka.mjs';
import { startS3, stopS3, s3Status } from './s3.mjs';

const SERVICES = ['flink', 'kafka', 's3'];

function dirs(root) {
  const r = path.resolve(root);
  return { root: r, flink: path.join(r, 'flink'), kafka: path.join(r, 'kafka'), s3: path.join(r, 's3'), state: path.join(r, 'stack.json') };
}

/** Throws with what to install when Java 17+ or Maven is missing. */
export async function checkPrerequisites() {
  let java;
  try {
    java = await run(process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java', ['-version']);
  } catch {
    throw new Error('Java is not installed (or not on the PATH). The local stack needs Java 17 or newer: install OpenJDK 17 (Debian: apt install openjdk-17-jdk-headless).');
  }
  const major = Number(/version "(\d+)/.exec(java.out)?.[1] ?? 0);
  if (major < 17) throw new Error(`Java ${major || '(unknown version)'} is too old; the local stack needs Java 17 or newer (Debian: apt install openjdk-17-jdk-headless).`);
  try {
    const mvn = await run('mvn', ['-v']);
    if (mvn.code !== 0) throw new Error(mvn.out);
  } catch {
    throw new Error('Maven (mvn) is not installed (or not on the PATH). The local stack resolves Flink, Kafka and S3Proxy from Maven Central with it: install Maven 3.8+ (Debian: apt install maven).');
  }
}

/** Starts (or reuses) the three services; on failure stops what this call started and names the service. */
export async function startStack({ root, ports = {}, bucket = 'flinkfn', onProgress = noop, timeoutMs = 180_000 } = {}) {
  if (!root) throw new Error('startStack: root is required');
  const d = dirs(root);
  fs.mkdirSync(d.root, { recursive: true });
  const t0 = Date.now();
  const started = [];
  const progress = (service) => (line) => onProgress(`${service}: ${line}`);
  const attempt = async (service, start) => {
    try {
      const result = await start();
      if (!result.reused) started.push(service);
      return result;
    } catch (error) {
      error.service = service;
      throw error;
    }
  };
  try {
    const [s3, kafka] = await Promise.all([
      attempt('s3', () => startS3({ dataDir: d.s3, port: ports.s3 ?? 9000, buckets: [bucket], ifRunning: 'reuse', timeoutMs, onProgress: progress('s3') })),
      attempt('kafka', () => startKafka({ dataDir: d.kafka, port: ports.kafka ?? 9092, ifRunning: 'reuse', timeoutMs, onProgress: progress('kafka') })),
    ]);
    const s3Info = { endpoint: s3.endpoint, bucket, region: s3.region, accessKey: s3.accessKey, secretKey: s3.secretKey };
    const flink = await attempt('flink', () =>
      startFlink({ dataDir: d.flink, restPort: ports.flinkRest ?? 8081, s3: s3Info, timeoutMs, onProgress: progress('flink') }),
    );
    const endpoints = { root: d.root, flink: { restUrl: flink.restUrl }, kafka: { bootstrapServers: kafka.bootstrap }, s3: s3Info };
    fs.writeFileSync(d.state, JSON.stringify(endpoints, null, 2));
    return {
      ...endpoints,
      services: {
        flink: { pid: flink.jobManagerPid, taskManagerPid: flink.taskManagerPid, reused: flink.reused },
        kafka: { pid: kafka.pid, reused: kafka.reused },
        s3: { pid: s3.pid, reused: s3.reused },
      },
      startMs: Date.now() - t0,
    };
  } catch (error) {
    // Whatever the other start calls still do, stop what this call started (in parallel ones that finished later too).
    await Promise.allSettled([
      started.includes('flink') || error.service === 'flink' ? stopFlink({ dataDir: d.flink }) : undefined,
      started.includes('kafka') ? stopKafka({ dataDir: d.kafka }) : undefined,
      started.includes('s3') ? stopS3({ dataDir: d.s3 }) : undefined,
    ]);
    const service = error.service ?? 'stack';
    const wrapped = new Error(`${service} did not start: ${error.message}`);
    wrapped.service = service;
    throw wrapped;
  }
}

export async function stopStack({ root } = {}) {
  const d = dirs(root);
  const stopped = [];
  // Flink first: its jobs write to Kafka and S3.
  if ((await stopFlink({ dataDir: d.flink })).stopped) stopped.push('flink');
  const [kafka, s3] = await Promise.all([stopKafka({ dataDir: d.kafka }).catch(() => ({})), stopS3({ dataDir: d.s3 }).catch(() => ({}))]);
  if (kafka.stopped) stopped.push('kafka');
  if (s3.stopped) stopped.push('s3');
  return { stopped };
}

export async function stackStatus({ root } = {}) {
  const d = dirs(root);
  const [flink, kafka, s3] = await Promise.all([
    flinkStatus({ dataDir: d.flink }),
    kafkaStatus({ dataDir: d.kafka }).catch(() => ({ running: false })),
    s3Status({ dataDir: d.s3 }).catch(() => ({ running: false })),
  ]);
  const up = Boolean(flink.running && kafka.running && s3.running);
  const endpoints = readJson(d.state);
  return { up, services: { flink, kafka, s3 }, ...(up && endpoints ? { endpoints } : {}) };
}

export async function stackLogs({ root, service, lines = 50 } = {}) {
  const d = dirs(root);
  const files = {
    flink: [path.join(d.flink, 'log', 'jobmanager.log'), path.join(d.flink, 'log', 'taskmanager.log')],
    kafka: [path.join(d.kafka, 'broker.log')],
    s3: [path.join(d.s3, 's3proxy.log')],
  };
  return (service ? [service] : SERVICES).flatMap((s) =>
    files[s].filter((file) => fs.existsSync(file)).map((file) => ({ service: s, file, lines: tail(file, lines).split('\n').filter((l) => l.length > 0) })),
  );
}

function parseArgs(argv) {
  const o = { ports: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') o.root = argv[++i];
    else if (a === '--flink-port') o.ports.flinkRest = Number(argv[++i]);
    else if (a === '--kafka-port') o.ports.kafka = Number(argv[++i]);
    else if (a === '--s3-port') o.ports.s3 = Number(argv[++i]);
    else if (a === '--service') o.service = argv[++i];
    else if (a === '--json') o.json = true;
    else if (!o.command) o.command = a;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

async function main(argv) {
  const o = parseArgs(argv);
  if (!o.root || !['up', 'down', 'status', 'logs'].includes(o.command)) {
    process.stderr.write('usage: node stack.mjs up|down|status|logs --root <dir> [--flink-port N] [--kafka-port N] [--s3-port N] [--service flink|kafka|s3] [--json]\n');
    return 2;
  }
  const print = (value, text) => process.stdout.write(o.json ? JSON.stringify(value) + '\n' : text + '\n');
  if (o.command === 'up') {
    await checkPrerequisites();
    const stack = await startStack({ root: o.root, ports: o.ports, onProgress: (l) => process.stderr.write(`[stack] ${l}\n`) });
    print(stack, `up in ${(stack.startMs / 1000).toFixed(1)} s: flink ${stack.flink.restUrl}, kafka ${stack.kafka.bootstrapServers}, s3 ${stack.s3.endpoint}`);
    return 0;
  }
  if (o.command === 'down') {
    const result = await stopStack({ root: o.root });
    print(result, result.stopped.length ? `stopped ${result.stopped.join(', ')}` : 'nothing was running');
    return 0;
  }
  if (o.command === 'status') {
    const status = await stackStatus({ root: o.root });
    print(status, `${status.up ? 'up' : 'down'}: ${SERVICES.map((s) => `${s} ${status.services[s].running ? 'running' : 'stopped'}`).join(', ')}`);
    return status.up ? 0 : 3;
  }
  for (const log of await stackLogs({ root: o.root, service: o.service })) print(log, `== ${log.service}: ${log.file}\n${log.lines.join('\n')}`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
    process.stderr.write(`stack.mjs: ${error.message}\n`);
    process.exit(1);
  });
}
