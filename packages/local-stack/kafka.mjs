#!/usr/bin/env node
// @ts-check
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
//   node packages/local-stack/kafka.mjs start  --data <dir> [--port 9092] [--controller-port N] [--user name:password]... [--json] ...
//   node packages/local-stack/kafka.mjs status --data <dir> [--json]
//   node packages/local-stack/kafka.mjs stop   --data <dir>
//   node packages/local-stack/kafka.mjs help
//
// Layout of <dataDir>:
//   kafka.classpath          classpath resolved by Maven and the sha256 of the pom.xml it came from (reused while
//                            the pom is unchanged and every jar exists)
//   server.properties        written on every start
//   kraft/                   log.dirs (metadata log + topic data); formatted once by kafka.tools.StorageTool
//   broker.log               stdout + stderr of the broker JVM (log4j config: ./kafka/log4j2.properties)
//   broker.pid, broker.json  pid and connection info of the running broker
//   tls/                     with `security` (--user): the CA and the broker's key store (./kafka-security.mjs)

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addScramUsers, checkSecurity, ensureTlsMaterial, scramArguments, secureListenerProperties } from './kafka-security.mjs';
import { HOST, fileSize, freePorts, isAlive, javaBin, mavenClasspath, noop, portInUse, readJson, readPid, run, sleep, spawnDetached, stopProcesses, tail } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const KAFKA_POM = path.join(HERE, 'kafka', 'pom.xml');
export const KAFKA_LOG4J2 = path.join(HERE, 'kafka', 'log4j2.properties');
const NODE_ID = 1;
const STARTED_MARKER = 'Kafka Server started';

/** @param {string} dataDir */
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

/**
 * Whether `pid` is the broker started with this data dir's server.properties.
 * @param {ReturnType<typeof paths>} p
 * @param {number | undefined} pid
 */
function brokerAlive(p, pid) {
  return isAlive(pid, ['\0kafka.Kafka\0', `\0${p.props}\0`]);
}

/** Kafka cluster ids are 16 random bytes, base64url without padding (22 chars), not starting with '-'. */
export function randomClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// ---------------------------------------------------------------------------------------------------------
// server.properties

/**
 * The broker configuration: one KRaft node that is both broker and controller, loopback only, every
 * internal topic with replication factor 1. `secure` adds listeners (./kafka-security.mjs). `overrides` (an
 * object) is appended last and so wins.
 * @param {{ port: number; controllerPort: number; logDir: string; overrides?: Record<string, string>;
 *   secure?: { listeners: string[]; protocolMap: string[]; properties: Record<string, string> } }} options
 */
export function serverProperties({ port, controllerPort, logDir, overrides = {}, secure }) {
  const extraListeners = secure ? secure.listeners.map((l) => `,${l}`).join('') : '';
  const lines = [
    '# written by packages/local-stack/kafka.mjs on every start; edits are overwritten',
    '# KRaft combined node: broker and controller in one JVM, static single-voter quorum',
    'process.roles=broker,controller',
    `node.id=${NODE_ID}`,
    // static voter set: `StorageTool format` needs no --standalone and the ports may change between runs
    `controller.quorum.voters=${NODE_ID}@${HOST}:${controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}${extraListeners}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${port}${extraListeners}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${secure ? secure.protocolMap.map((m) => `,${m}`).join('') : ''}`,
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
    '# a broker restarted after a SIGKILL is refused (DUPLICATE_BROKER_REGISTRATION) until its old session expires',
    '# (default 9 s after the controller starts; heartbeats every 2 s)',
    'broker.session.timeout.ms=3000',
    'broker.heartbeat.interval.ms=500',
    '# consumers of a new group start at once instead of after 3 s',
    'group.initial.rebalance.delay.ms=0',
    "# Flink's KafkaSink uses transaction.timeout.ms=1h by default; the broker's default cap is 15 min",
    'transaction.max.timeout.ms=3600000',
  ];
  if (secure) {
    lines.push('', '# secured listeners (SASL_PLAINTEXT, SASL_SSL, SSL): see kafka-security.mjs');
    for (const [k, v] of Object.entries(secure.properties)) lines.push(`${k}=${v}`);
  }
  const extra = Object.entries(overrides);
  if (extra.length > 0) {
    lines.push('', '# overrides');
    for (const [k, v] of extra) lines.push(`${k}=${v}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// readiness probe: a Kafka ApiVersions (v0) request

/**
 * Resolves true when a Kafka broker answers an ApiVersions request on host:port.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
export function probeApiVersions(port, host = HOST, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    let buf = Buffer.alloc(0);
    const done = (/** @type {boolean} */ ok) => {
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
 * @typedef {object} StartKafkaOptions
 * @property {string} dataDir
 * @property {number} [port]  PLAINTEXT port, default 9092; 0 picks a free one
 * @property {number} [controllerPort]  CONTROLLER port; 0 (default) picks a free one
 * @property {string} [logFile]  broker stdout/stderr; default <dataDir>/broker.log
 * @property {string} [classpathFile]  classpath cache; default <dataDir>/kafka.classpath
 * @property {string} [mavenRepoLocal]  passed to Maven as -Dmaven.repo.local
 * @property {Record<string, string>} [overrides]  extra server.properties entries (win over the defaults)
 * @property {string} [heap]  -Xms/-Xmx of the broker JVM, default '512m'
 * @property {string[]} [jvmArgs]
 * @property {number} [timeoutMs]  how long to wait for readiness, default 120000
 * @property {'error' | 'reuse'} [ifRunning]  what to do when a broker already runs in dataDir, default 'error'
 * @property {import('./kafka-security.mjs').KafkaSecurity} [security]  adds SASL_PLAINTEXT, SASL_SSL and SSL
 *   listeners with these users (PLAIN and SCRAM) and a CA made for this data dir
 * @property {import('./common.mjs').Progress} [onProgress]
 */

/**
 * @typedef {object} KafkaInfo  what broker.json records
 * @property {string} bootstrap  127.0.0.1:PORT
 * @property {number} port
 * @property {number} controllerPort
 * @property {number} pid
 * @property {string} dataDir
 * @property {string} logFile
 * @property {string} clusterId
 * @property {import('./kafka-security.mjs').SecureListeners} [secure]  the secured listeners, when started with `security`
 */

/** @typedef {{ stopped: boolean; killed?: boolean; stopMs?: number }} StopKafkaResult */

/**
 * Starts a broker in `dataDir` (created if missing) and resolves once it is ready: its log says
 * "Kafka Server started" and its PLAINTEXT port answers a Kafka ApiVersions request. Data (kraft/) survives.
 * Errors: `code` 'EALREADY' when a broker already runs in dataDir and `ifRunning` is 'error'.
 * @param {StartKafkaOptions} options
 * @returns {Promise<KafkaInfo & { startMs: number; reused: boolean; stop: () => Promise<StopKafkaResult> }>}
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
  security,
  onProgress = noop,
}) {
  if (!dataDir) throw new Error('startKafka: dataDir is required');
  const t0 = Date.now();
  const p = paths(dataDir);
  await fsp.mkdir(p.dataDir, { recursive: true });
  const stop = () => stopKafka({ dataDir: p.dataDir, onProgress });

  const running = await kafkaStatus({ dataDir: p.dataDir });
  if (running.running) {
    if (ifRunning === 'reuse') {
      onProgress(`broker already running (pid ${running.pid}, ${running.bootstrap})`);
      const { running: _, answering: __, ...info } = running;
      return { ...info, startMs: 0, reused: true, stop };
    }
    throw Object.assign(new Error(`a broker is already running in ${p.dataDir} (pid ${running.pid}, ${running.bootstrap})`), { code: 'EALREADY' });
  }

  if (security) checkSecurity(security);
  // ports: every 0 gets a distinct free port
  const wanted = { port, controllerPort, saslPlaintext: security?.ports?.saslPlaintext ?? 0, saslSsl: security?.ports?.saslSsl ?? 0, ssl: security?.ports?.ssl ?? 0 };
  if (!security) wanted.saslPlaintext = wanted.saslSsl = wanted.ssl = -1;
  const free = (await freePorts(5)).filter((n) => !Object.values(wanted).includes(n));
  for (const key of /** @type {const} */ (['port', 'controllerPort', 'saslPlaintext', 'saslSsl', 'ssl'])) {
    if (wanted[key] === 0) wanted[key] = free.shift() ?? 0;
  }
  ({ port, controllerPort } = wanted);
  const inUse = Object.values(wanted).filter((n) => n > 0);
  if (new Set(inUse).size !== inUse.length) throw new Error(`the broker's ports must differ (${inUse.join(', ')})`);
  for (const [what, n] of Object.entries(wanted)) {
    if (n > 0 && (await portInUse(n))) throw new Error(`${what === 'port' ? 'port' : `${what} port`} ${n} on ${HOST} is already in use`);
  }

  const classpath = await mavenClasspath({ pom: KAFKA_POM, cacheFile: classpathFile ?? p.classpath, mavenRepoLocal, onProgress, what: 'Kafka broker classpath' });
  const java = javaBin();
  const log4j = `-Dlog4j2.configurationFile=${KAFKA_LOG4J2}`;

  /** @type {import('./kafka-security.mjs').SecureListeners | undefined} */
  let secureInfo;
  let secure;
  if (security) {
    const tls = await ensureTlsMaterial(p.dataDir, onProgress);
    const ports = { saslPlaintext: wanted.saslPlaintext, saslSsl: wanted.saslSsl, ssl: wanted.ssl };
    secure = secureListenerProperties({ security, ports, keyStore: tls.keyStore, storePassword: tls.storePassword });
    secureInfo = {
      saslPlaintext: `${HOST}:${ports.saslPlaintext}`, saslSsl: `${HOST}:${ports.saslSsl}`, ssl: `${HOST}:${ports.ssl}`,
      caFile: tls.caPem, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], users: security.users.map((u) => u.name),
    };
  }
  await fsp.writeFile(p.props, serverProperties({ port, controllerPort, logDir: p.logDir, overrides, ...(secure ? { secure } : {}) }), { mode: 0o600 });

  // format the storage once (StorageTool refuses nothing thanks to --ignore-formatted, but it costs ~1.3 s)
  let clusterId;
  let scramStored = false;
  const metaFile = path.join(p.logDir, 'meta.properties');
  if (fs.existsSync(metaFile)) {
    clusterId = /^cluster\.id=(.*)$/m.exec(fs.readFileSync(metaFile, 'utf8'))?.[1]?.trim() ?? '';
    onProgress(`storage: already formatted (cluster id ${clusterId})`);
  } else {
    clusterId = randomClusterId();
    onProgress(`storage: formatting ${p.logDir} (cluster id ${clusterId})`);
    const res = await run(java, [log4j, '-cp', classpath, 'kafka.tools.StorageTool', 'format',
      '-t', clusterId, '-c', p.props, '--ignore-formatted', ...(security ? scramArguments(security) : [])]);
    scramStored = true;
    if (res.code !== 0) throw new Error(`kafka.tools.StorageTool format failed (exit ${res.code}):\n${res.out}`);
  }

  // start detached: the broker outlives this process (the CLI exits after `start`)
  const logPath = path.resolve(logFile ?? p.log);
  const logStart = fileSize(logPath);
  const { pid, exited } = spawnDetached(java, [
    `-Xms${heap}`, `-Xmx${heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true',
    log4j, ...jvmArgs, '-cp', classpath, 'kafka.Kafka', p.props,
  ], { logFile: logPath, cwd: p.dataDir });
  await fsp.writeFile(p.pid, `${pid}\n`);
  /** @type {KafkaInfo} */
  const info = { bootstrap: `${HOST}:${port}`, port, controllerPort, pid, dataDir: p.dataDir, logFile: logPath, clusterId, ...(secureInfo ? { secure: secureInfo } : {}) };
  await fsp.writeFile(p.state, `${JSON.stringify(info, null, 2)}\n`);
  onProgress(`broker: started pid ${pid} on ${info.bootstrap} (controller ${HOST}:${controllerPort}), log ${logPath}`);

  // wait for readiness
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  let marker = false;
  let answered = false;
  for (;;) {
    const exit = exited();
    if (exit) {
      await fsp.rm(p.pid, { force: true });
      throw new Error(`the broker exited during startup (${exit}); last lines of ${logPath}:\n${tail(logPath, 40, logStart)}`);
    }
    marker ||= tail(logPath, Number.MAX_SAFE_INTEGER, logStart).includes(STARTED_MARKER);
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
  if (security && !scramStored) {
    onProgress('SCRAM: storing the users\' credentials (the storage was formatted before)');
    await addScramUsers({ classpath, log4j, bootstrap: info.bootstrap, security }).catch(async (error) => {
      await stop().catch(noop);
      throw error;
    });
  }
  if (secureInfo) onProgress(`broker: SASL_PLAINTEXT ${secureInfo.saslPlaintext}, SASL_SSL ${secureInfo.saslSsl}, SSL ${secureInfo.ssl} (CA ${secureInfo.caFile})`);
  const startMs = Date.now() - t0;
  onProgress(`broker: ready on ${info.bootstrap} after ${(startMs / 1000).toFixed(1)} s`);
  return { ...info, startMs, reused: false, stop };
}

/**
 * Stops the broker of `dataDir`: SIGTERM (controlled shutdown), then SIGKILL after `timeoutMs`.
 * @param {{ dataDir: string; timeoutMs?: number; onProgress?: import('./common.mjs').Progress }} options
 * @returns {Promise<StopKafkaResult>}
 */
export async function stopKafka({ dataDir, timeoutMs = 30_000, onProgress = noop }) {
  if (!dataDir) throw new Error('stopKafka: dataDir is required');
  const p = paths(dataDir);
  const t0 = Date.now();
  const { pids, killed } = await stopProcesses([readPid(p.pid)], (pid) => brokerAlive(p, pid), timeoutMs);
  await fsp.rm(p.pid, { force: true });
  if (pids.length === 0) {
    onProgress('broker: not running');
    return { stopped: false };
  }
  const stopMs = Date.now() - t0;
  onProgress(`broker: stopped after ${(stopMs / 1000).toFixed(1)} s${killed ? ' (killed)' : ''}`);
  return { stopped: true, killed, stopMs };
}

/**
 * Tells whether the broker of `dataDir` runs (`running`) and answers on its port (`answering`).
 * @param {{ dataDir: string }} options
 * @returns {Promise<{ running: false; dataDir: string } | (KafkaInfo & { running: true; answering: boolean })>}
 */
export async function kafkaStatus({ dataDir }) {
  if (!dataDir) throw new Error('kafkaStatus: dataDir is required');
  const p = paths(dataDir);
  const pid = readPid(p.pid);
  /** @type {KafkaInfo | undefined} */
  const state = readJson(p.state);
  if (!state || state.pid !== pid || !brokerAlive(p, pid)) return { running: false, dataDir: p.dataDir };
  return { ...state, running: true, answering: await probeApiVersions(state.port) };
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
           --user name:password  adds SASL_PLAINTEXT, SASL_SSL (PLAIN, SCRAM-SHA-256/512) and SSL listeners on
                                 free ports with this user (repeatable) and a CA made in <data>/tls (ca.pem)
           --heap 512m           broker heap
           --timeout <seconds>   readiness timeout (default 120)
           If a broker already runs in <data>, start reports it and exits 0.
  stop     SIGTERM the broker of <data>, SIGKILL after --timeout seconds (default 30)
  status   exit 0 when the broker of <data> runs and answers, 3 otherwise

  --json   print the result as one JSON line on stdout (progress always goes to stderr)
`;

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {{ cmd?: string; set: Record<string, string>; users: Array<{ name: string; password: string }>; data?: string; port?: number; controllerPort?: number; log?: string;
   *   classpathFile?: string; mavenRepo?: string; heap?: string; timeout?: number; json?: boolean }} */
  const o = { cmd: argv[0], set: {}, users: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i] ?? '';
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
      case '--user': {
        const spec = val();
        const colon = spec.indexOf(':');
        if (colon <= 0) throw new Error(`--user expects name:password, got ${spec}`);
        o.users.push({ name: spec.slice(0, colon), password: spec.slice(colon + 1) });
        break;
      }
      case '-h': case '--help': o.cmd = 'help'; break;
      default: throw new Error(`unknown argument: ${a}`);
    }
  }
  return o;
}

/** @param {string[]} argv */
async function main(argv) {
  let o;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${/** @type {Error} */ (e).message}\n\n${USAGE}`);
    return 2;
  }
  if (!o.cmd || o.cmd === 'help') {
    process.stdout.write(USAGE);
    return o.cmd ? 0 : 2;
  }
  const data = o.data;
  if (!data) {
    process.stderr.write(`--data <dir> is required\n\n${USAGE}`);
    return 2;
  }
  const progress = (/** @type {string} */ m) => process.stderr.write(`[kafka] ${m}\n`);
  const out = (/** @type {unknown} */ obj, /** @type {string} */ text) => process.stdout.write(o.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  switch (o.cmd) {
    case 'start': {
      const k = await startKafka({
        dataDir: data,
        port: o.port ?? 9092,
        controllerPort: o.controllerPort ?? 0,
        logFile: o.log,
        classpathFile: o.classpathFile,
        mavenRepoLocal: o.mavenRepo,
        overrides: o.set,
        ...(o.heap ? { heap: o.heap } : {}),
        ...(o.timeout ? { timeoutMs: o.timeout * 1000 } : {}),
        ifRunning: 'reuse',
        ...(o.users.length > 0 ? { security: { users: o.users } } : {}),
        onProgress: progress,
      });
      const { stop, ...info } = k;
      const secured = k.secure ? `\nSASL_PLAINTEXT ${k.secure.saslPlaintext}, SASL_SSL ${k.secure.saslSsl}, SSL ${k.secure.ssl}; CA ${k.secure.caFile}; mechanisms ${k.secure.mechanisms.join(', ')}` : '';
      out(info, `Kafka broker ready: bootstrap.servers=${k.bootstrap} (pid ${k.pid}, log ${k.logFile})${secured}`);
      return 0;
    }
    case 'stop': {
      const r = await stopKafka({ dataDir: data, ...(o.timeout ? { timeoutMs: o.timeout * 1000 } : {}), onProgress: progress });
      out(r, r.stopped ? 'stopped' : 'not running');
      return 0;
    }
    case 'status': {
      const s = await kafkaStatus({ dataDir: data });
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
    (/** @type {Error} */ e) => {
      process.stderr.write(`[kafka] error: ${e.message}\n`);
      process.exit(1);
    },
  );
}
