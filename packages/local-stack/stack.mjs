#!/usr/bin/env node
// @ts-check
// The local stack behind `flinkfn local up|down|status|logs` and the default deploy target: S3Proxy and a
// Kafka broker (started in parallel), then a Flink session cluster (JobManager, TaskManager) configured for that
// S3 server, then an optional supervised controller process, all on 127.0.0.1 under one root folder: <root>/s3,
// <root>/kafka, <root>/flink, <root>/controller.*, and <root>/stack.json (endpoints, ports, controller command).
// `up` is idempotent and starts only the processes that are down, each on the port it had before, so a dead
// TaskManager alone comes back to the running JobManager and its jobs. `down` stops only what runs under <root>.
//
//   node packages/local-stack/stack.mjs up|down|status|logs --root <dir> [--flink-port N] [--kafka-port N] [--s3-port N] [--json]
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { javaBin, noop, portInUse, readJson, run, tail } from './common.mjs';
import { controllerStatus, startController, stopController } from './controller.mjs';
import { startFlink, stopFlink, flinkStatus } from './flink.mjs';
import { startKafka, stopKafka, kafkaStatus } from './kafka.mjs';
import { startS3, stopS3, s3Status } from './s3.mjs';

/** @typedef {import('./controller.mjs').ControllerCommand} ControllerCommand */

/**
 * @typedef {object} StackEndpoints
 * @property {string} root
 * @property {{ restUrl: string }} flink
 * @property {{ bootstrapServers: string; secure?: import('./kafka-security.mjs').SecureListeners }} kafka  `secure`: with `kafkaSecurity`
 * @property {{ endpoint: string; bucket: string; region: string; accessKey: string; secretKey: string }} s3
 */

/**
 * @typedef {object} StackPorts  the ports the processes had, asked for again when the caller asks for port 0
 * @property {number} s3
 * @property {number} kafka
 * @property {number} kafkaController
 * @property {number} flinkRest
 * @property {number} flinkRpc
 */

/** @typedef {StackEndpoints & { ports: StackPorts; controller?: ControllerCommand }} StackState  what stack.json records */

/**
 * The processes of the stack, in start order (`down` stops them in reverse, the controller first).
 * @typedef {'s3' | 'kafka' | 'jobManager' | 'taskManager' | 'controller'} Part
 */
export const PARTS = /** @type {const} */ (['s3', 'kafka', 'jobManager', 'taskManager', 'controller']);
/** @type {Record<Part, string>} */
export const PART_NAMES = { s3: 'S3Proxy', kafka: 'Kafka', jobManager: 'Flink JobManager', taskManager: 'Flink TaskManager', controller: 'controller' };

/** @param {string} root */
function dirs(root) {
  const r = path.resolve(root);
  return { root: r, flink: path.join(r, 'flink'), kafka: path.join(r, 'kafka'), s3: path.join(r, 's3'), state: path.join(r, 'stack.json') };
}

/**
 * `requested` unless it is 0; then the port the process had before if it is free (clients and the other processes
 * know it), else 0 (a free one).
 * @param {number} requested
 * @param {number | undefined} recorded
 */
async function rememberedPort(requested, recorded) {
  if (requested !== 0) return requested;
  return recorded && !(await portInUse(recorded)) ? recorded : 0;
}

/** Throws with what to install when Java 17+ or Maven is missing. */
export async function checkPrerequisites() {
  let java;
  try {
    java = await run(javaBin(), ['-version']);
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

/**
 * @typedef {object} StartStackOptions
 * @property {string} root
 * @property {{ flinkRest?: number; kafka?: number; s3?: number }} [ports]  defaults 8081, 9092, 9000; 0: the port of the
 *   previous start if free, else a free one
 * @property {string} [bucket]  created if missing, default 'flinkfn'
 * @property {ControllerCommand | null} [controller]  a process to supervise with the stack (recorded in stack.json,
 *   so a later `up` without it restarts it too); null forgets the recorded one and stops it
 * @property {import('./kafka-security.mjs').KafkaSecurity} [kafkaSecurity]  the broker also gets SASL and TLS
 *   listeners with these users (kafka.mjs); for tests of secured clients
 * @property {Record<string, string>} [taskManagerEnv]  environment variables for the Flink processes on top of
 *   this process's (which they inherit), e.g. the secrets a job's `${env:NAME}` Kafka settings name
 * @property {import('./common.mjs').Progress} [onProgress]
 * @property {number} [timeoutMs]  per service, default 180000
 */

/**
 * @typedef {StackEndpoints & { services: Partial<Record<Part, { pid: number; started: boolean }>> & Record<Exclude<Part, 'controller'>, { pid: number; started: boolean }>;
 *   started: Part[]; startMs: number }} RunningStack
 * `services` has `controller` only when the stack has one; `started` lists the processes this call started.
 */

/**
 * Starts the processes of the stack that are down and keeps those that run; on failure stops what this call
 * started and names the service (error.service).
 * @param {StartStackOptions} options
 * @returns {Promise<RunningStack>}
 */
export async function startStack({ root, ports = {}, bucket = 'flinkfn', controller, kafkaSecurity, taskManagerEnv, onProgress = noop, timeoutMs = 180_000 }) {
  if (!root) throw new Error('startStack: root is required');
  const d = dirs(root);
  fs.mkdirSync(d.root, { recursive: true });
  const t0 = Date.now();
  /** @type {StackState | undefined} */
  const previous = readJson(d.state);
  const recorded = previous?.ports;
  const supervised = controller === null ? undefined : (controller ?? previous?.controller);
  /** @type {Part[]} */
  const started = [];
  const progress = (/** @type {string} */ service) => (/** @type {string} */ line) => onProgress(`${service}: ${line}`);
  /**
   * @template T
   * @param {string} service
   * @param {() => Promise<T>} start
   */
  const attempt = async (service, start) => {
    try {
      return await start();
    } catch (error) {
      throw Object.assign(/** @type {Error} */ (error), { service });
    }
  };
  try {
    if (controller === null) await stopController({ root: d.root });
    const [s3, kafka] = await Promise.all([
      attempt('s3', async () => {
        const s3 = await startS3({ dataDir: d.s3, port: await rememberedPort(ports.s3 ?? 9000, recorded?.s3), buckets: [bucket], ifRunning: 'reuse', timeoutMs, onProgress: progress('s3') });
        if (!s3.reused) started.push('s3');
        return s3;
      }),
      attempt('kafka', async () => {
        const kafka = await startKafka({
          dataDir: d.kafka, port: await rememberedPort(ports.kafka ?? 9092, recorded?.kafka), controllerPort: await rememberedPort(0, recorded?.kafkaController),
          ifRunning: 'reuse', timeoutMs, onProgress: progress('kafka'), ...(kafkaSecurity ? { security: kafkaSecurity } : {}),
        });
        if (!kafka.reused) started.push('kafka');
        return kafka;
      }),
    ]);
    const s3Info = { endpoint: s3.endpoint, bucket, region: s3.region, accessKey: s3.accessKey, secretKey: s3.secretKey };
    const flink = await attempt('flink', async () => {
      const flink = await startFlink({
        dataDir: d.flink, restPort: await rememberedPort(ports.flinkRest ?? 8081, recorded?.flinkRest), rpcPort: await rememberedPort(0, recorded?.flinkRpc),
        s3: s3Info, timeoutMs, onProgress: progress('flink'), ...(taskManagerEnv ? { env: taskManagerEnv } : {}),
      });
      if (flink.started.includes('jobmanager')) started.push('jobManager');
      if (flink.started.includes('taskmanager')) started.push('taskManager');
      return flink;
    });
    /** @type {StackState} */
    const state = {
      root: d.root, flink: { restUrl: flink.restUrl }, kafka: { bootstrapServers: kafka.bootstrap, ...(kafka.secure ? { secure: kafka.secure } : {}) }, s3: s3Info,
      ports: { s3: s3.port, kafka: kafka.port, kafkaController: kafka.controllerPort, flinkRest: flink.restPort, flinkRpc: flink.rpcPort },
    };
    const writeState = (/** @type {StackState} */ value) => fs.writeFileSync(d.state, JSON.stringify(value, null, 2), { mode: 0o600 });
    writeState({ ...state, ...(previous?.controller && controller !== null ? { controller: previous.controller } : {}) });
    /** @type {RunningStack['services']} */
    const services = {
      s3: { pid: s3.pid, started: started.includes('s3') },
      kafka: { pid: kafka.pid, started: started.includes('kafka') },
      jobManager: { pid: flink.jobManagerPid, started: started.includes('jobManager') },
      taskManager: { pid: flink.taskManagerPid, started: started.includes('taskManager') },
    };
    if (supervised) {
      // After the services, so that it finds them; FLINKFN_LOCAL_ROOT tells it where their endpoints are.
      const running = await attempt('controller', () => startController({ root: d.root, ...supervised, onProgress }));
      if (!running.reused) started.push('controller');
      services.controller = { pid: running.pid, started: !running.reused };
      writeState({ ...state, controller: supervised });
    }
    const { ports: _, ...endpoints } = state;
    return { ...endpoints, services, started, startMs: Date.now() - t0 };
  } catch (error) {
    // Whatever the other start calls still do, stop what this call started (a failed Flink start stopped its own part).
    await Promise.allSettled([
      started.includes('controller') ? stopController({ root: d.root }) : undefined,
      stopFlink({ dataDir: d.flink, roles: [...(started.includes('taskManager') ? /** @type {const} */ (['taskmanager']) : []), ...(started.includes('jobManager') ? /** @type {const} */ (['jobmanager']) : [])] }),
      started.includes('kafka') ? stopKafka({ dataDir: d.kafka }) : undefined,
      started.includes('s3') ? stopS3({ dataDir: d.s3 }) : undefined,
    ]);
    const service = /** @type {{ service?: string }} */ (error).service ?? 'stack';
    throw Object.assign(new Error(`${service} did not start: ${/** @type {Error} */ (error).message}`), { service });
  }
}

/**
 * Stops every process of the stack under root: the controller first (it acts on the others), then Flink (its jobs
 * write to Kafka and S3), then Kafka and S3Proxy. stack.json stays: the next `up` reuses its ports and controller.
 * @param {{ root: string }} options
 * @returns {Promise<{ stopped: Part[] }>}
 */
export async function stopStack({ root }) {
  const d = dirs(root);
  /** @type {Part[]} */
  const stopped = [];
  if ((await stopController({ root: d.root })).stopped) stopped.push('controller');
  const before = await flinkStatus({ dataDir: d.flink });
  await stopFlink({ dataDir: d.flink });
  if (before.taskManager.running) stopped.push('taskManager');
  if (before.jobManager.running) stopped.push('jobManager');
  const [kafka, s3] = await Promise.all([stopKafka({ dataDir: d.kafka }), stopS3({ dataDir: d.s3 })]);
  if (kafka.stopped) stopped.push('kafka');
  if (s3.stopped) stopped.push('s3');
  return { stopped };
}

/**
 * @typedef {{ running: boolean; pid?: number } & Record<string, unknown>} PartStatus
 * `running`: the process runs; the other fields say what it answers (answering, registered) and where.
 */

/**
 * @typedef {object} StackStatus
 * @property {boolean} up  every process runs, the services answer and the TaskManager is registered
 * @property {Partial<Record<Part, PartStatus>> & Record<Exclude<Part, 'controller'>, PartStatus>} services
 *   one entry per process; `controller` only when the stack has one
 * @property {StackEndpoints} [endpoints]  when up
 */

/**
 * @param {{ root: string }} options
 * @returns {Promise<StackStatus>}
 */
export async function stackStatus({ root }) {
  const d = dirs(root);
  /** @type {StackState | undefined} */
  const state = readJson(d.state);
  const [flink, kafka, s3] = await Promise.all([flinkStatus({ dataDir: d.flink }), kafkaStatus({ dataDir: d.kafka }), s3Status({ dataDir: d.s3 })]);
  /** @type {StackStatus['services']} */
  const services = {
    s3: s3.running ? { running: true, pid: s3.pid, endpoint: s3.endpoint, answering: s3.answering } : { running: false },
    kafka: kafka.running ? { running: true, pid: kafka.pid, bootstrapServers: kafka.bootstrap, answering: kafka.answering } : { running: false },
    jobManager: { ...flink.jobManager, ...(flink.restUrl ? { restUrl: flink.restUrl } : {}) },
    taskManager: flink.taskManager,
  };
  if (state?.controller) {
    const controller = controllerStatus({ root: d.root });
    services.controller = { running: controller.running, ...(controller.pid ? { pid: controller.pid } : {}), command: state.controller.command };
  }
  const up = Object.values(services).every((part) => part.running) && flink.running && s3.running && s3.answering && kafka.running && kafka.answering;
  const endpoints = state ? { root: state.root, flink: state.flink, kafka: state.kafka, s3: state.s3 } : undefined;
  return { up, services, ...(up && endpoints ? { endpoints } : {}) };
}

/**
 * @param {{ root: string; service?: 'flink' | 'kafka' | 's3' | 'controller'; lines?: number }} options
 * @returns {Promise<Array<{ service: string; file: string; lines: string[] }>>}
 */
export async function stackLogs({ root, service, lines = 50 }) {
  const d = dirs(root);
  const files = {
    flink: [path.join(d.flink, 'log', 'jobmanager.log'), path.join(d.flink, 'log', 'taskmanager.log')],
    kafka: [path.join(d.kafka, 'broker.log')],
    s3: [path.join(d.s3, 's3proxy.log')],
    controller: [controllerStatus({ root: d.root }).logFile],
  };
  return (service ? [service] : /** @type {const} */ (['flink', 'kafka', 's3', 'controller'])).flatMap((s) =>
    files[s].filter((file) => fs.existsSync(file)).map((file) => ({ service: s, file, lines: tail(file, lines).split('\n').filter((l) => l.length > 0) })),
  );
}

/**
 * One line per process, e.g. "Flink TaskManager  stopped".
 * @param {StackStatus} status
 */
export function describeStatus(status) {
  return PARTS.flatMap((part) => {
    const s = status.services[part];
    if (!s) return [];
    const detail = s.running && s.answering === false ? ' (not answering)' : s.running && s.registered === false ? ' (not registered)' : '';
    return [`${PART_NAMES[part].padEnd(18)} ${s.running ? `running, pid ${s.pid}${detail}` : 'stopped'}`];
  });
}

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {{ ports: { flinkRest?: number; kafka?: number; s3?: number }; root?: string; service?: string; json?: boolean; command?: string }} */
  const o = { ports: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? '';
    if (a === '--root') o.root = value();
    else if (a === '--flink-port') o.ports.flinkRest = Number(value());
    else if (a === '--kafka-port') o.ports.kafka = Number(value());
    else if (a === '--s3-port') o.ports.s3 = Number(value());
    else if (a === '--service') o.service = value();
    else if (a === '--json') o.json = true;
    else if (!o.command) o.command = a;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** @param {string[]} argv */
async function main(argv) {
  const o = parseArgs(argv);
  const root = o.root;
  const service = /** @type {'flink' | 'kafka' | 's3' | 'controller' | undefined} */ (o.service);
  if (!root || !['up', 'down', 'status', 'logs'].includes(o.command ?? '') || (service && !['flink', 'kafka', 's3', 'controller'].includes(service))) {
    process.stderr.write('usage: node stack.mjs up|down|status|logs --root <dir> [--flink-port N] [--kafka-port N] [--s3-port N] [--service flink|kafka|s3|controller] [--json]\n');
    return 2;
  }
  const print = (/** @type {unknown} */ value, /** @type {string} */ text) => process.stdout.write(o.json ? JSON.stringify(value) + '\n' : text + '\n');
  if (o.command === 'up') {
    await checkPrerequisites();
    const stack = await startStack({ root, ports: o.ports, onProgress: (l) => process.stderr.write(`[stack] ${l}\n`) });
    const started = stack.started.length > 0 ? `started ${stack.started.map((part) => PART_NAMES[part]).join(', ')}` : 'all running';
    print(stack, `up in ${(stack.startMs / 1000).toFixed(1)} s (${started}): flink ${stack.flink.restUrl}, kafka ${stack.kafka.bootstrapServers}, s3 ${stack.s3.endpoint}`);
    return 0;
  }
  if (o.command === 'down') {
    const result = await stopStack({ root });
    print(result, result.stopped.length ? `stopped ${result.stopped.map((part) => PART_NAMES[part]).join(', ')}` : 'nothing was running');
    return 0;
  }
  if (o.command === 'status') {
    const status = await stackStatus({ root });
    print(status, [status.up ? 'up' : 'down', ...describeStatus(status).map((line) => `  ${line}`)].join('\n'));
    return status.up ? 0 : 3;
  }
  for (const log of await stackLogs({ root, ...(service ? { service } : {}) })) print(log, `== ${log.service}: ${log.file}\n${log.lines.join('\n')}`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (/** @type {Error} */ error) => {
    process.stderr.write(`stack.mjs: ${error.message}\n`);
    process.exit(1);
  });
}
