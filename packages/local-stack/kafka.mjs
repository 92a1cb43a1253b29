#!/usr/bin/env node
// Local single-node Apache Kafka broker (KRaft, broker + controller in one JVM) from Maven Central jars.
// No Docker, no Kafka distribution: the classpath comes from ./kafka/pom.xml via Maven.
//
// Library (Node 20, no dependencies):
//   import { startKafka } from './kafka.mjs';
//   const kafka = await startKafka({ dataDir: '/tmp/k', port: 0 });   // port 0: pick free ports
//   kafka.bootstrap;  // "127.0.0.1:NNNNN"
//   await kafka.stop();
//
// CLI:
//   node packages/local-stack/kafka.mjs start  --data <dir> [--port 9092] [--controller-port N] [--json] ...
//   node packages/local-stack/kafka.mjs status --data <dir> [--json]
//   node packages/local-stack/kafka.mjs stop   --data <dir>
//   node packages/local-stack/kafka.mjs help
//
// Layout of <dataDir>:
//   kafka.classpath          classpath resolved by Maven (reused while pom.xml is unchanged and every jar exists)
//   kafka.classpath.sha256   sha256 of the pom.xml the classpath was resolved from
//   server.properties        written on every start
//   kraft/                   log.dirs (metadata log + topic data); formatted once by kafka.tools.StorageTool
//   broker.log               stdout + stderr of the broker JVM (log4j config: ./kafka/log4j2.properties)
//   broker.pid, broker.json  pid and connection info of the running broker

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const KAFKA_POM = path.join(HERE, 'kafka', 'pom.xml');
export const KAFKA_LOG4J2 = path.join(HERE, 'kafka', 'log4j2.properties');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.11.0';
const HOST = '127.0.0.1';
const NODE_ID = 1;
const STARTED_MARKER = 'Kafka Server started';

const noop = () => {};

// ---------------------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function javaBin() {
  if (process.env.JAVA) return process.env.JAVA;
  if (process.env.JAVA_HOME) return path.join(process.env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

function paths(dataDir) {
  const d = path.resolve(dataDir);
  return {
    dataDir: d,
    classpath: path.join(d, 'kafka.classpath'),
    props: path.join(d, 'server.properties'),
    logDir: path.join(d, 'kraft'),
    log: path.join(d, 'broker.log'),
    pid: path.join(d, 'broker.pid'),
    state: path.join(d, 'broker.json'),
  };
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  // Linux: make sure the pid was not reused by something else (zombies count as dead)
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka');
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Reserves `n` distinct free TCP ports on 127.0.0.1 (listen on port 0, then close). */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, HOST, resolve);
      });
      servers.push(srv);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

async function portInUse(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, HOST, () => srv.close(() => resolve(false)));
  });
}

/** Kafka cluster ids are 16 random bytes, base64url without padding (22 chars), not starting with '-'. */
export function randomClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function tail(file, lines = 40, fromByte = 0) {
  try {
    const text = fs.readFileSync(file).subarray(fromByte).toString('utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

function run(cmd, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

// ---------------------------------------------------------------------------------------------------------
// classpath

/**
 * Returns the broker classpath (a ':'-separated string). Uses the cached `classpathFile` while it was
 * resolved from the same pom.xml and every entry still exists; otherwise runs
 * `mvn -B -q -f kafka/pom.xml maven-dependency-plugin:3.11.0:build-classpath`.
 */
export async function resolveClasspath({
  classpathFile,
  mavenRepoLocal,
  mvn = process.env.MVN || 'mvn',
  refresh = false,
  onProgress = noop,
} = {}) {
  if (!classpathFile) throw new Error('resolveClasspath: classpathFile is required');
  const pomSha = createHash('sha256').update(fs.readFileSync(KAFKA_POM)).digest('hex');
  const stampFile = `${classpathFile}.sha256`;
  if (!refresh && fs.existsSync(classpathFile)) {
    const cp = fs.readFileSync(classpathFile, 'utf8').trim();
    const stamp = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '';
    const entries = cp.split(path.delimiter).filter(Boolean);
    if (stamp === pomSha && entries.length > 0 && entries.every((e) => fs.existsSync(e))) {
      onProgress(`classpath: cached (${entries.length} jars, ${classpathFile})`);
      return cp;
    }
    onProgress('classpath: cache is stale, resolving again');
  }
  await fsp.mkdir(path.dirname(classpathFile), { recursive: true });
  const tmp = `${classpathFile}.${process.pid}.tmp`;
  const args = ['-B', '-q', '-f', KAFKA_POM];
  if (mavenRepoLocal) args.push(`-Dmaven.repo.local=${path.resolve(mavenRepoLocal)}`);
  args.push(`${DEPENDENCY_PLUGIN}:build-classpath`, `-Dmdep.outputFile=${tmp}`);
  onProgress(`classpath: resolving with Maven (first run downloads ~70 MB): ${mvn} ${args.join(' ')}`);
  const t0 = Date.now();
  const ticker = setInterval(() => onProgress(`classpath: still resolving (${Math.round((Date.now() - t0) / 1000)} s)`), 10_000);
  let res;
  try {
    res = await run(mvn, args);
  } finally {
    clearInterval(ticker);
  }
  if (res.code !== 0 || !fs.existsSync(tmp)) {
    await fsp.rm(tmp, { force: true });
    // Maven 3.8 prints bare ESC[0m sequences even with -B -q
    throw new Error(`Maven could not resolve the Kafka classpath (exit ${res.code}):\n${res.out.replace(/\x1b\[[0-9;]*m/g, '')}`);
  }
  const cp = fs.readFileSync(tmp, 'utf8').trim();
  await fsp.rename(tmp, classpathFile);
  await fsp.writeFile(stampFile, `${pomSha}\n`);
  onProgress(`classpath: resolved ${cp.split(path.delimiter).length} jars in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return cp;
}

// ---------------------------------------------------------------------------------------------------------
// server.properties

/**
 * The broker configuration: one KRaft node that is both broker and controller, loopback only, every
 * internal topic with replication factor 1. `overrides` (an object) is appended last and so wins.
 */
export function serverProperties({ port, controllerPort, logDir, overrides = {} }) {
  const lines = [
    '# written by packages/local-stack/kafka.mjs on every start; edits are overwritten',
    '# KRaft combined node: broker and controller in one JVM, static single-voter quorum',
    'process.roles=broker,controller',
    `node.id=${NODE_ID}`,
    // static voter set: `StorageTool format` needs no --standalone and the ports may change between runs
    `controller.quorum.voters=${NODE_ID}@${HOST}:${controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDir}`,
    '',
    '# single node: internal topics cannot have 3 replicas (defaults: replication factor 3, min.isr 2)',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    '# fewer partitions for internal topics (default 50 each): faster first group / first transaction',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.num.partitions=1',
    '',
    'num.partitions=1',
    '# topics are created explicitly, with the partition count the test or pipeline expects',
    'auto.create.topics.enable=false',
    '# consumers of a new group start at once instead of after 3 s',
    'group.initial.rebalance.delay.ms=0',
    "# Flink's KafkaSink uses transaction.timeout.ms=1h by default; the broker's default cap is 15 min",
    'transaction.max.timeout.ms=3600000',
  ];
  const extra = Object.entries(overrides);
  if (extra.length > 0) {
    lines.push('', '# overrides');
    for (const [k, v] of extra) lines.push(`${k}=${v}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// readiness probe: a Kafka ApiVersions (v0) request

/** Resolves true when a Kafka broker answers an ApiVersions request on host:port. */
export function probeApiVersions(port, host = HOST, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    let buf = Buffer.alloc(0);
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => {
      const clientId = Buffer.from('flinkfn-local-stack');
      // request header v1: api_key int16, api_version int16, correlation_id int32, client_id string
      const body = Buffer.alloc(10 + clientId.length);
      body.writeInt16BE(18, 0); // ApiVersions
      body.writeInt16BE(0, 2); // v0
      body.writeInt32BE(0x464c4b46, 4); // correlation id
      body.writeInt16BE(clientId.length, 8);
      clientId.copy(body, 10);
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length, 0);
      sock.write(Buffer.concat([size, body]));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 10) return;
      // response: size int32, correlation_id int32, error_code int16, [api_keys]
      const ok = buf.readInt32BE(4) === 0x464c4b46 && buf.readInt16BE(8) === 0;
      done(ok);
    });
    sock.on('end', () => done(false));
  });
}

// ---------------------------------------------------------------------------------------------------------
// start / stop / status

/**
 * Starts a broker in `dataDir` (created if missing) and resolves once it is ready: its log says
 * "Kafka Server started" and its PLAINTEXT port answers a Kafka ApiVersions request.
 *
 * @param {object} o
 * @param {string} o.dataDir
 * @param {number} [o.port=9092]          PLAINTEXT port; 0 picks a free one
 * @param {number} [o.controllerPort=0]   CONTROLLER port; 0 (default) picks a free one
 * @param {string} [o.logFile]            broker stdout/stderr; default <dataDir>/broker.log
 * @param {string} [o.classpathFile]      classpath cache; default <dataDir>/kafka.classpath
 * @param {string} [o.mavenRepoLocal]     passed to Maven as -Dmaven.repo.local
 * @param {object} [o.overrides]          extra server.properties entries (win over the defaults)
 * @param {string} [o.heap='512m']        -Xms/-Xmx of the broker JVM
 * @param {string[]} [o.jvmArgs]          extra JVM arguments
 * @param {number} [o.timeoutMs=120000]   how long to wait for readiness
 * @param {'error'|'reuse'} [o.ifRunning='error']  what to do when a broker already runs in dataDir
 * @param {(msg: string) => void} [o.onProgress]
 * @returns {Promise<{bootstrap: string, port: number, controllerPort: number, pid: number, dataDir: string,
 *   logFile: string, clusterId: string, startMs: number, reused: boolean, stop: () => Promise<void>}>}
 */
export async function startKafka({
  dataDir,
  port = 9092,
  controllerPort = 0,
  logFile,
  classpathFile,
  mavenRepoLocal,
  overrides = {},
  heap = '512m',
  jvmArgs = [],
  timeoutMs = 120_000,
  ifRunning = 'error',
  onProgress = noop,
} = {}) {
  if (!dataDir) throw new Error('startKafka: dataDir is required');
  const t0 = Date.now();
  const p = paths(dataDir);
  await fsp.mkdir(p.dataDir, { recursive: true });

  const running = await kafkaStatus({ dataDir: p.dataDir });
  if (running.running) {
    if (ifRunning === 'reuse') {
      onProgress(`broker already running (pid ${running.pid}, ${running.bootstrap})`);
      return { ...running, startMs: 0, reused: true, stop: () => stopKafka({ dataDir: p.dataDir, onProgress }) };
    }
    const err = new Error(`a broker is already running in ${p.dataDir} (pid ${running.pid}, ${running.bootstrap})`);
    err.code = 'EALREADY';
    throw err;
  }

  // ports
  if (port === 0 || controllerPort === 0) {
    const [a, b] = await freePorts(2);
    if (port === 0) port = a;
    if (controllerPort === 0) controllerPort = port === b ? a : b;
  }
  if (port === controllerPort) throw new Error(`port and controllerPort must differ (${port})`);
  for (const [what, n] of [['port', port], ['controller port', controllerPort]]) {
    if (await portInUse(n)) throw new Error(`${what} ${n} on ${HOST} is already in use`);
  }

  const classpath = await resolveClasspath({ classpathFile: classpathFile ?? p.classpath, mavenRepoLocal, onProgress });
  const java = javaBin();
  const log4j = `-Dlog4j2.configurationFile=${KAFKA_LOG4J2}`;

  await fsp.writeFile(p.props, serverProperties({ port, controllerPort, logDir: p.logDir, overrides }));

  // format the storage once (StorageTool refuses nothing thanks to --ignore-formatted, but it costs ~1.3 s)
  let clusterId;
  const metaFile = path.join(p.logDir, 'meta.properties');
  if (fs.existsSync(metaFile)) {
    clusterId = /^cluster\.id=(.*)$/m.exec(fs.readFileSync(metaFile, 'utf8'))?.[1]?.trim();
    onProgress(`storage: already formatted (cluster id ${clusterId})`);
  } else {
    clusterId = randomClusterId();
    onProgress(`storage: formatting ${p.logDir} (cluster id ${clusterId})`);
    const res = await run(java, [log4j, '-cp', classpath, 'kafka.tools.StorageTool', 'format',
      '-t', clusterId, '-c', p.props, '--ignore-formatted']);
    if (res.code !== 0) throw new Error(`kafka.tools.StorageTool format failed (exit ${res.code}):\n${res.out}`);
  }

  // start detached: the broker outlives this process (the CLI exits after `start`)
  const logPath = path.resolve(logFile ?? p.log);
  await fsp.mkdir(path.dirname(logPath), { recursive: true });
  const logFd = fs.openSync(logPath, 'a');
  const logStart = fs.fstatSync(logFd).size;
  const args = [
    `-Xms${heap}`, `-Xmx${heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true',
    log4j, ...jvmArgs, '-cp', classpath, 'kafka.Kafka', p.props,
  ];
  const child = spawn(java, args, { cwd: p.dataDir, detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.on('error', (e) => (exited = { error: e }));
  child.unref();
  const pid = child.pid;
  if (!pid) {
    await sleep(50);
    throw new Error(`cannot start ${java}: ${exited?.error?.message ?? 'no pid'}`);
  }
  await fsp.writeFile(p.pid, `${pid}\n`);
  const info = {
    bootstrap: `${HOST}:${port}`, port, controllerPort, pid, dataDir: p.dataDir, logFile: logPath, clusterId,
  };
  await fsp.writeFile(p.state, `${JSON.stringify(info, null, 2)}\n`);
  onProgress(`broker: started pid ${pid} on ${info.bootstrap} (controller ${HOST}:${controllerPort}), log ${logPath}`);

  // wait for readiness
  const stop = () => stopKafka({ dataDir: p.dataDir, onProgress });
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  let marker = false;
  let answered = false;
  for (;;) {
    if (exited) {
      await fsp.rm(p.pid, { force: true });
      throw new Error(`the broker exited during startup (${exited.error?.message ?? `code ${exited.code}, signal ${exited.signal}`}); last lines of ${logPath}:\n${tail(logPath, 40, logStart)}`);
    }
    if (!marker) {
      try {
        const fd = fs.openSync(logPath, 'r');
        const size = fs.fstatSync(fd).size;
        const b = Buffer.alloc(size - logStart);
        fs.readSync(fd, b, 0, b.length, logStart);
        fs.closeSync(fd);
        marker = b.includes(STARTED_MARKER);
      } catch {
        /* not yet */
      }
    }
    if (marker) answered = await probeApiVersions(port);
    if (marker && answered) break;
    if (Date.now() > deadline) {
      await stop().catch(noop);
      throw new Error(`the broker was not ready after ${timeoutMs} ms (log marker "${STARTED_MARKER}": ${marker ? 'seen' : 'not seen'}, ApiVersions on ${info.bootstrap}: ${answered ? 'answered' : 'no answer'}); last lines of ${logPath}:\n${tail(logPath, 40, logStart)}`);
    }
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      onProgress(`broker: waiting (${Math.round((Date.now() - t0) / 1000)} s; log marker ${marker ? 'seen' : 'not yet'})`);
    }
    await sleep(100);
  }
  const startMs = Date.now() - t0;
  onProgress(`broker: ready on ${info.bootstrap} after ${(startMs / 1000).toFixed(1)} s`);
  return { ...info, startMs, reused: false, stop };
}

/** Stops the broker of `dataDir`: SIGTERM (controlled shutdown), then SIGKILL after `timeoutMs`. */
export async function stopKafka({ dataDir, timeoutMs = 30_000, onProgress = noop } = {}) {
  if (!dataDir) throw new Error('stopKafka: dataDir is required');
  const p = paths(dataDir);
  const pid = readPid(p.pid);
  if (pid === undefined || !isAlive(pid)) {
    await fsp.rm(p.pid, { force: true });
    onProgress('broker: not running');
    return { stopped: false };
  }
  const t0 = Date.now();
  onProgress(`broker: stopping pid ${pid} (SIGTERM)`);
  // the broker was spawned detached, so it leads its own process group
  const signal = (sig) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal('SIGTERM');
  let killed = false;
  while (isAlive(pid)) {
    if (!killed && Date.now() - t0 > timeoutMs) {
      onProgress(`broker: still alive after ${timeoutMs} ms, SIGKILL`);
      signal('SIGKILL');
      killed = true;
    }
    if (Date.now() - t0 > timeoutMs + 10_000) throw new Error(`pid ${pid} survived SIGKILL`);
    await sleep(100);
  }
  await fsp.rm(p.pid, { force: true });
  const ms = Date.now() - t0;
  onProgress(`broker: stopped after ${(ms / 1000).toFixed(1)} s${killed ? ' (killed)' : ''}`);
  return { stopped: true, killed, stopMs: ms };
}

/** Tells whether the broker of `dataDir` runs and answers on its port. */
export async function kafkaStatus({ dataDir } = {}) {
  if (!dataDir) throw new Error('kafkaStatus: dataDir is required');
  const p = paths(dataDir);
  const pid = readPid(p.pid);
  const state = readJson(p.state) ?? {};
  if (pid === undefined || !isAlive(pid) || state.pid !== pid) {
    return { running: false, dataDir: p.dataDir };
  }
  const answering = state.port ? await probeApiVersions(state.port) : false;
  return { running: true, answering, ...state };
}

// ---------------------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage: node kafka.mjs <start|stop|status> --data <dir> [options]

  start    format the storage (first time) and start a broker in the background; prints when ready
           --port N              PLAINTEXT port (default 9092; 0 = a free port)
           --controller-port N   CONTROLLER port (default 0 = a free port)
           --log <file>          broker log (default <data>/broker.log)
           --classpath-file F    classpath cache (default <data>/kafka.classpath)
           --maven-repo <dir>    Maven local repository (-Dmaven.repo.local)
           --set key=value       extra server.properties entry (repeatable)
           --heap 512m           broker heap
           --timeout <seconds>   readiness timeout (default 120)
           If a broker already runs in <data>, start reports it and exits 0.
  stop     SIGTERM the broker of <data>, SIGKILL after --timeout seconds (default 30)
  status   exit 0 when the broker of <data> runs and answers, 3 otherwise

  --json   print the result as one JSON line on stdout (progress always goes to stderr)
`;

function parseArgs(argv) {
  const o = { cmd: argv[0], set: {} };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const v = val();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${a}: not a port/number: ${v}`);
      return n;
    };
    switch (a) {
      case '--data': o.data = val(); break;
      case '--port': o.port = num(); break;
      case '--controller-port': o.controllerPort = num(); break;
      case '--log': o.log = val(); break;
      case '--classpath-file': o.classpathFile = val(); break;
      case '--maven-repo': o.mavenRepo = val(); break;
      case '--heap': o.heap = val(); break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--json': o.json = true; break;
      case '--set': {
        const kv = val();
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new Error(`--set expects key=value, got ${kv}`);
        o.set[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '-h': case '--help': o.cmd = 'help'; break;
      default: throw new Error(`unknown argument: ${a}`);
    }
  }
  return o;
}

async function main(argv) {
  let o;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (!o.cmd || o.cmd === 'help') {
    process.stdout.write(USAGE);
    return o.cmd ? 0 : 2;
  }
  if (!o.data) {
    process.stderr.write(`--data <dir> is required\n\n${USAGE}`);
    return 2;
  }
  const progress = (m) => process.stderr.write(`[kafka] ${m}\n`);
  const out = (obj, text) => process.stdout.write(o.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  switch (o.cmd) {
    case 'start': {
      const k = await startKafka({
        dataDir: o.data,
        port: o.port ?? 9092,
        controllerPort: o.controllerPort ?? 0,
        logFile: o.log,
        classpathFile: o.classpathFile,
        mavenRepoLocal: o.mavenRepo,
        overrides: o.set,
        heap: o.heap,
        timeoutMs: o.timeout ? o.timeout * 1000 : undefined,
        ifRunning: 'reuse',
        onProgress: progress,
      });
      const { stop, ...info } = k;
      out(info, `Kafka broker ready: bootstrap.servers=${k.bootstrap} (pid ${k.pid}, log ${k.logFile})`);
      return 0;
    }
    case 'stop': {
      const r = await stopKafka({ dataDir: o.data, timeoutMs: o.timeout ? o.timeout * 1000 : undefined, onProgress: progress });
      out(r, r.stopped ? 'stopped' : 'not running');
      return 0;
    }
    case 'status': {
      const s = await kafkaStatus({ dataDir: o.data });
      out(s, s.running ? `running: pid ${s.pid}, bootstrap.servers=${s.bootstrap}, ${s.answering ? 'answering' : 'NOT answering'}` : 'not running');
      return s.running && s.answering ? 0 : 3;
    }
    default:
      process.stderr.write(`unknown command: ${o.cmd}\n\n${USAGE}`);
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`[kafka] error: ${e.message}\n`);
      process.exit(1);
    },
  );
}
