#!/usr/bin/env node
// @ts-check
// A local Apache Flink 2.2.1 session cluster (a JobManager with REST and one TaskManager, two JVMs) on
// 127.0.0.1, from Maven Central jars (./flink/pom.xml) instead of a flink-dist download. With `s3`, the
// flink-s3-fs-presto plugin is installed so jobs read artifacts and write checkpoints to s3://.
//
// Library (Node 20, no dependencies):
//   const flink = await startFlink({ dataDir: '/tmp/f', restPort: 0, s3: { endpoint, accessKey, secretKey } });
//   flink.restUrl;  // http://127.0.0.1:NNNNN
//   await flink.stop();
// CLI:
//   node packages/local-stack/flink.mjs start|stop|status --data <dir> [--rest-port 8081] [--slots 4]
//        [--s3-endpoint URL --s3-access-key K --s3-secret-key S] [--set key=value]... [--json]
//
// Layout of <dataDir>: conf/config.yaml (Flink 2.x reads only config.yaml), log/jobmanager.log and
// log/taskmanager.log, tmp/ (io.tmp.dirs), upload/ (web.upload.dir: uploaded jars survive restarts),
// checkpoints/ and savepoints/ (file:// defaults), plugins/ (with s3), flink.json (pids and ports).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPENDENCY_PLUGIN, HOST, fileSize, freePorts, isAlive, javaBin, mavenClasspath, noop, portInUse, readJson, run, sleep, spawnDetached, stopProcesses, tail } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FLINK_POM = path.join(HERE, 'flink', 'pom.xml');
const LOG4J2 = path.join(HERE, 'flink', 'log4j2.properties');
const S3_PLUGIN = { group: 'org.apache.flink', artifact: 'flink-s3-fs-presto', version: '2.2.0' };
const JOB_MANAGER_CLASS = 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint';
const TASK_MANAGER_CLASS = 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner';
const MARKER = '-Dflink.local.data=';

// What bin/config.sh passes on Java 17 (env.java.opts.all of flink-dist's config.yaml).
const JAVA17_OPENS = [
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED', '--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED', '--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED', '--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED',
  '--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED', '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED', '--add-opens=java.base/java.io=ALL-UNNAMED', '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED', '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED', '--add-opens=java.base/java.text=ALL-UNNAMED',
  '--add-opens=java.base/java.time=ALL-UNNAMED', '--add-opens=java.base/java.util=ALL-UNNAMED', '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED', '--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED',
];

// The TaskManager's memory, fixed so that no bin/taskmanager.sh (BashJavaUtils) is needed: TaskManagerRunner
// refuses to start unless every component is set; the JVM flags below are their sums.
const TM_MEMORY = {
  'taskmanager.memory.framework.heap.size': '128m',
  'taskmanager.memory.task.heap.size': '512m',
  'taskmanager.memory.framework.off-heap.size': '128m',
  'taskmanager.memory.task.off-heap.size': '0m',
  'taskmanager.memory.network.min': '64m',
  'taskmanager.memory.network.max': '64m',
  'taskmanager.memory.managed.size': '128m',
  'taskmanager.memory.jvm-metaspace.size': '256m',
  'taskmanager.memory.jvm-overhead.min': '192m',
  'taskmanager.memory.jvm-overhead.max': '192m',
};
const TM_JVM = ['-Xms640m', '-Xmx640m', '-XX:MaxDirectMemorySize=192m', '-XX:MaxMetaspaceSize=256m', '-XX:+UseG1GC'];

/** @typedef {ReturnType<typeof paths>} Paths */
/** @param {string} dataDir */
function paths(dataDir) {
  const d = path.resolve(dataDir);
  return {
    dataDir: d, conf: path.join(d, 'conf'), logDir: path.join(d, 'log'), tmp: path.join(d, 'tmp'), upload: path.join(d, 'upload'),
    plugins: path.join(d, 'plugins'), state: path.join(d, 'flink.json'), classpathCache: path.join(d, 'flink.classpath.json'),
  };
}

/**
 * GET `resource` of the JobManager's REST API; undefined when it does not answer (or not with 200).
 * @param {string} restUrl
 * @param {string} resource
 * @returns {Promise<unknown>}
 */
async function restGet(restUrl, resource) {
  try {
    const response = await fetch(`${restUrl}${resource}`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

/** @param {string} restUrl */
async function overview(restUrl) {
  return /** @type {Record<string, number> | undefined} */ (await restGet(restUrl, '/overview'));
}

/**
 * @param {Paths} p
 * @param {string | undefined} mavenRepoLocal
 * @param {import('./common.mjs').Progress} onProgress
 */
async function installS3Plugin(p, mavenRepoLocal, onProgress) {
  const dir = path.join(p.plugins, 's3-fs-presto');
  const file = path.join(dir, `${S3_PLUGIN.artifact}-${S3_PLUGIN.version}.jar`);
  if (fs.existsSync(file)) return;
  const repo = mavenRepoLocal ?? path.join(os.homedir(), '.m2', 'repository');
  const cached = path.join(repo, ...S3_PLUGIN.group.split('.'), S3_PLUGIN.artifact, S3_PLUGIN.version, path.basename(file));
  if (!fs.existsSync(cached)) {
    onProgress(`fetching the S3 file system plugin ${S3_PLUGIN.artifact} ${S3_PLUGIN.version} (97 MB) from Maven Central`);
    const args = ['-B', '-q', `${DEPENDENCY_PLUGIN}:get`, `-Dartifact=${S3_PLUGIN.group}:${S3_PLUGIN.artifact}:${S3_PLUGIN.version}`, '-Dtransitive=false'];
    if (mavenRepoLocal) args.push(`-Dmaven.repo.local=${mavenRepoLocal}`);
    const result = await run('mvn', args);
    if (result.code !== 0 || !fs.existsSync(cached)) throw new Error(`mvn could not fetch ${S3_PLUGIN.artifact}:\n${result.out.slice(-2000)}`);
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(cached, file);
}

/**
 * @param {{ p: Paths; restPort: number; rpcPort: number; slots: number; s3?: { endpoint: string; accessKey: string; secretKey: string };
 *   extraConfig: Record<string, string | number | boolean> }} options
 */
function configYaml({ p, restPort, rpcPort, slots, s3, extraConfig }) {
  const config = {
    'jobmanager.rpc.address': HOST, 'jobmanager.rpc.port': rpcPort, 'jobmanager.bind-host': HOST,
    'rest.address': HOST, 'rest.bind-address': HOST, 'rest.port': restPort,
    'web.upload.dir': p.upload, 'blob.server.port': 0,
    'taskmanager.host': HOST, 'taskmanager.bind-host': HOST, 'taskmanager.rpc.port': 0, 'taskmanager.data.port': 0,
    // The TaskManager starts beside the JobManager; before the ResourceManager answers it retries after this
    // delay (default 10 s, which made every start take 15 s instead of 6).
    'cluster.registration.error-delay': 500,
    // A TaskManager notices a restarted JobManager only when the old one's heartbeats time out (default 50 s), and
    // a JobManager a killed TaskManager after two failed heartbeat requests (default interval 10 s): local
    // processes do not pause for that long, so `up` after a crash waits 20 s at most instead of 50.
    'heartbeat.interval': 5000, 'heartbeat.timeout': 20000,
    'taskmanager.numberOfTaskSlots': slots, 'taskmanager.cpu.cores': 2.0, 'parallelism.default': 1,
    ...TM_MEMORY,
    'state.backend.type': 'hashmap',
    'execution.checkpointing.dir': `file://${path.join(p.dataDir, 'checkpoints')}`,
    'execution.checkpointing.savepoint-dir': `file://${path.join(p.dataDir, 'savepoints')}`,
    'io.tmp.dirs': p.tmp,
    ...(s3 ? { 's3.endpoint': s3.endpoint, 's3.path.style.access': true, 's3.access-key': s3.accessKey, 's3.secret-key': s3.secretKey } : {}),
    ...extraConfig,
  };
  return Object.entries(config).map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`).join('\n') + '\n';
}

/** @typedef {'jobmanager' | 'taskmanager'} Role */
const MAIN_CLASS = { jobmanager: JOB_MANAGER_CLASS, taskmanager: TASK_MANAGER_CLASS };

/**
 * Whether `pid` is this data dir's JobManager or TaskManager (the data dir and the main class are on its command line).
 * @param {Paths} p
 * @param {Role} role
 * @param {number | undefined} pid
 */
function roleAlive(p, role, pid) {
  return isAlive(pid, [`${MARKER}${p.dataDir}\0`, `\0${MAIN_CLASS[role]}\0`]);
}

/**
 * @param {Paths} p
 * @param {Role} role
 * @param {string} classpath
 * @param {string[]} args  after --configDir: dynamic properties
 * @param {Record<string, string>} env  on top of this process's environment
 */
function launch(p, role, classpath, args, env) {
  const jvm = role === 'jobmanager' ? ['-Xms512m', '-Xmx512m'] : TM_JVM;
  const logFile = path.join(p.logDir, `${role}.log`);
  const { pid } = spawnDetached(javaBin(), [
    ...jvm, ...JAVA17_OPENS, `${MARKER}${p.dataDir}`, `-Dlog.file=${logFile}`, `-Dlog4j.configurationFile=${LOG4J2}`,
    '-cp', classpath, MAIN_CLASS[role], '--configDir', p.conf, ...args,
  ], { logFile: path.join(p.logDir, `${role}.out`), env: { ...process.env, ...env, FLINK_PLUGINS_DIR: p.plugins, FLINK_CONF_DIR: p.conf } });
  return pid;
}

/**
 * The ids of the TaskManagers the JobManager at `restUrl` has registered, or undefined when it does not answer.
 * @param {string} restUrl
 * @returns {Promise<string[] | undefined>}
 */
async function registeredTaskManagers(restUrl) {
  const body = /** @type {{ taskmanagers: Array<{ id: string }> } | undefined} */ (await restGet(restUrl, '/taskmanagers'));
  return body?.taskmanagers.map((tm) => tm.id);
}

/**
 * Whether the TaskManager `id` is among the `registered` ones (any, for a cluster started before TaskManagers got a
 * resource id of ours).
 * @param {string[] | undefined} registered
 * @param {string | undefined} id
 */
function isRegistered(registered, id) {
  return Boolean(registered && (id ? registered.includes(id) : registered.length > 0));
}

/**
 * @typedef {object} FlinkState  what flink.json records
 * @property {string} restUrl
 * @property {number} restPort
 * @property {number} rpcPort   the JobManager's RPC port, which the TaskManager connects to
 * @property {number} jobManagerPid
 * @property {number} taskManagerPid
 * @property {string} taskManagerId  its resource id, to tell it from a dead TaskManager the JobManager still lists
 */

/**
 * @typedef {object} StartFlinkOptions
 * @property {string} dataDir
 * @property {number} [restPort]  default 8081; 0 picks a free one
 * @property {number} [rpcPort]  the JobManager's RPC port, default 0: a free one
 * @property {number} [slots]  default 4
 * @property {{ endpoint: string; accessKey: string; secretKey: string }} [s3]  installs the S3 file system plugin
 * @property {Record<string, string | number | boolean>} [extraConfig]  config.yaml entries that win over the defaults
 * @property {Record<string, string>} [env]  environment of the JobManager and TaskManager on top of this process's
 * @property {'reuse' | 'error'} [ifRunning]  default 'reuse'
 * @property {number} [timeoutMs]  default 120000
 * @property {import('./common.mjs').Progress} [onProgress]
 * @property {string} [mavenRepoLocal]
 * @property {string} [classpathFile]
 */

/**
 * @typedef {FlinkState & { dataDir: string; logDir: string; startMs: number; reused: boolean;
 *   started: Role[]; stop: () => Promise<StopFlinkResult> }} RunningFlink
 * `started`: the processes this call started (none when both ran; only the TaskManager when it alone was down).
 */

/**
 * Starts what is down of the cluster in dataDir and resolves when its TaskManager is registered. A JobManager
 * that runs is kept (with its jobs): a dead TaskManager alone is started again and registers with it, and a
 * dead JobManager comes back on the same REST and RPC ports, where the running TaskManager finds it again.
 * @param {StartFlinkOptions} options
 * @returns {Promise<RunningFlink>}
 */
export async function startFlink({
  dataDir, restPort = 8081, rpcPort = 0, slots = 4, s3, extraConfig = {}, env = {}, ifRunning = 'reuse', timeoutMs = 120_000,
  onProgress = noop, mavenRepoLocal, classpathFile,
}) {
  if (!dataDir) throw new Error('startFlink: dataDir is required');
  const p = paths(dataDir);
  const t0 = Date.now();
  const stop = () => stopFlink({ dataDir });
  /** @type {FlinkState | undefined} */
  const previous = readJson(p.state);
  const jobManagerUp = roleAlive(p, 'jobmanager', previous?.jobManagerPid);
  const taskManagerUp = roleAlive(p, 'taskmanager', previous?.taskManagerPid);
  if (jobManagerUp && taskManagerUp && ifRunning !== 'reuse') throw new Error(`Flink already runs in ${p.dataDir} (${previous?.restUrl})`);

  /** @type {FlinkState} */
  let state;
  if (previous && (jobManagerUp || taskManagerUp)) {
    state = previous; // the running half keeps its configuration, ports included
  } else {
    for (const dir of [p.conf, p.logDir, p.tmp, p.upload]) fs.mkdirSync(dir, { recursive: true });
    const [freeRest = 0, freeRpc = 0] = await freePorts(2);
    const port = restPort || freeRest;
    const rpc = rpcPort || freeRpc;
    if (await portInUse(port)) {
      throw new Error(`port ${port} (Flink REST) is in use by another program; choose another with --rest-port (flinkfn: FLINKFN_LOCAL_FLINK_PORT)`);
    }
    if (s3) await installS3Plugin(p, mavenRepoLocal, onProgress);
    fs.writeFileSync(path.join(p.conf, 'config.yaml'), configYaml({ p, restPort: port, rpcPort: rpc, slots, s3, extraConfig }));
    state = { restUrl: `http://${HOST}:${port}`, restPort: port, rpcPort: rpc, jobManagerPid: 0, taskManagerPid: 0, taskManagerId: '' };
  }

  /** @type {Role[]} */
  const started = [];
  // Where this start's lines begin in the appended logs, for the error tails.
  const logStart = { jobmanager: fileSize(path.join(p.logDir, 'jobmanager.log')), taskmanager: fileSize(path.join(p.logDir, 'taskmanager.log')) };
  if (!jobManagerUp || !taskManagerUp) {
    const classpath = await mavenClasspath({ pom: FLINK_POM, cacheFile: classpathFile ?? p.classpathCache, mavenRepoLocal, onProgress, what: 'Flink 2.2.1 classpath' });
    if (!jobManagerUp) {
      for (const [what, port] of /** @type {const} */ ([['REST', state.restPort], ['RPC', state.rpcPort]])) {
        if (await portInUse(port)) throw new Error(`port ${port} (Flink JobManager ${what}) is in use by another program; the JobManager must come back on it because the TaskManager and clients know it`);
      }
      onProgress(`starting the Flink JobManager (REST ${state.restUrl}, RPC port ${state.rpcPort})`);
      state.jobManagerPid = launch(p, 'jobmanager', classpath, [], env);
      started.push('jobmanager');
    }
    if (!taskManagerUp) {
      state.taskManagerId = `local-taskmanager-${randomBytes(4).toString('hex')}`;
      onProgress(`starting a Flink TaskManager (${state.taskManagerId})`);
      state.taskManagerPid = launch(p, 'taskmanager', classpath, ['-D', `taskmanager.resource-id=${state.taskManagerId}`], env);
      started.push('taskmanager');
    }
    fs.writeFileSync(p.state, JSON.stringify(state));
  }

  const deadline = Date.now() + timeoutMs;
  let lastProgress = Date.now();
  for (;;) {
    const registered = await registeredTaskManagers(state.restUrl);
    if (isRegistered(registered, state.taskManagerId)) break;
    for (const role of /** @type {Role[]} */ (['jobmanager', 'taskmanager'])) {
      if (!roleAlive(p, role, role === 'jobmanager' ? state.jobManagerPid : state.taskManagerPid)) {
        await stopRoles(p, state, started);
        throw new Error(`the Flink ${role} exited while starting; end of ${role}.log:\n${tail(path.join(p.logDir, `${role}.log`), 30, logStart[role])}\n${tail(path.join(p.logDir, `${role}.out`), 10)}`);
      }
    }
    if (Date.now() > deadline) {
      await stopRoles(p, state, started);
      throw new Error(`Flink did not become ready within ${timeoutMs / 1000} s (${registered ? `TaskManager ${state.taskManagerId} not registered` : 'REST did not answer'}); end of jobmanager.log:\n${tail(path.join(p.logDir, 'jobmanager.log'), 30, logStart.jobmanager)}`);
    }
    if (Date.now() - lastProgress > 5000) {
      onProgress(`waiting for Flink (${Math.round((Date.now() - t0) / 1000)} s)`);
      lastProgress = Date.now();
    }
    await sleep(200);
  }
  return { ...state, dataDir: p.dataDir, logDir: p.logDir, startMs: Date.now() - t0, reused: started.length === 0, started, stop };
}

/** @typedef {{ stopped: boolean; pids: number[] }} StopFlinkResult */

/**
 * Stops the cluster recorded in dataDir (only its own processes; the TaskManager first).
 * @param {{ dataDir: string; roles?: Role[]; timeoutMs?: number }} options  roles: only these (default both)
 * @returns {Promise<StopFlinkResult>}
 */
export async function stopFlink({ dataDir, roles = ['taskmanager', 'jobmanager'], timeoutMs = 30_000 }) {
  const p = paths(dataDir);
  /** @type {FlinkState | undefined} */
  const state = readJson(p.state);
  if (!state) return { stopped: false, pids: [] };
  const pids = await stopRoles(p, state, /** @type {Role[]} */ (['taskmanager', 'jobmanager']).filter((role) => roles.includes(role)), timeoutMs);
  return { stopped: pids.length > 0, pids };
}

/**
 * Stops the given processes of the cluster, in this order; returns the pids that ran. A failed start stops only
 * what it started: a running JobManager keeps its jobs when a new TaskManager does not come up.
 * @param {Paths} p
 * @param {FlinkState} state
 * @param {Role[]} roles
 */
async function stopRoles(p, state, roles, timeoutMs = 30_000) {
  /** @type {number[]} */
  const pids = [];
  for (const role of roles) {
    const pid = role === 'jobmanager' ? state.jobManagerPid : state.taskManagerPid;
    pids.push(...(await stopProcesses([pid], (candidate) => roleAlive(p, role, candidate), timeoutMs)).pids);
  }
  return pids;
}

/**
 * @typedef {object} FlinkStatus
 * @property {boolean} running  both processes run and the TaskManager is registered
 * @property {string} [restUrl]
 * @property {{ running: boolean; pid?: number; answering: boolean; restPort?: number; rpcPort?: number }} jobManager
 *   running: the process runs; answering: its REST API answers
 * @property {{ running: boolean; pid?: number; id?: string; registered: boolean }} taskManager
 *   running: the process runs; registered: the JobManager lists it
 * @property {number} [jobsRunning]
 */

/**
 * @param {{ dataDir: string }} options
 * @returns {Promise<FlinkStatus>}
 */
export async function flinkStatus({ dataDir }) {
  const p = paths(dataDir);
  /** @type {FlinkState | undefined} */
  const state = readJson(p.state);
  const jobManagerUp = roleAlive(p, 'jobmanager', state?.jobManagerPid);
  const taskManagerUp = roleAlive(p, 'taskmanager', state?.taskManagerPid);
  const info = jobManagerUp && state ? await overview(state.restUrl) : undefined;
  const registered = Boolean(taskManagerUp && info && state && isRegistered(await registeredTaskManagers(state.restUrl), state.taskManagerId));
  return {
    running: Boolean(info) && registered,
    ...(state ? { restUrl: state.restUrl } : {}),
    jobManager: { running: jobManagerUp, ...(state ? { pid: state.jobManagerPid, restPort: state.restPort, rpcPort: state.rpcPort } : {}), answering: Boolean(info) },
    taskManager: { running: taskManagerUp, ...(state ? { pid: state.taskManagerPid, id: state.taskManagerId } : {}), registered },
    ...(info ? { jobsRunning: info['jobs-running'] } : {}),
  };
}

/**
 * @param {string[]} argv
 */
function parseArgs(argv) {
  /** @type {{ set: Record<string, string>; dataDir?: string; restPort?: number; slots?: number; json?: boolean; command?: string;
   *   s3?: { endpoint: string; accessKey: string; secretKey: string } }} */
  const options = { set: {} };
  const s3 = () => (options.s3 ??= { endpoint: '', accessKey: '', secretKey: '' });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? '';
    if (a === '--data') options.dataDir = value();
    else if (a === '--rest-port') options.restPort = Number(value());
    else if (a === '--slots') options.slots = Number(value());
    else if (a === '--s3-endpoint') s3().endpoint = value();
    else if (a === '--s3-access-key') s3().accessKey = value();
    else if (a === '--s3-secret-key') s3().secretKey = value();
    else if (a === '--set') { const [k = '', ...v] = value().split('='); options.set[k] = v.join('='); }
    else if (a === '--json') options.json = true;
    else if (!options.command) options.command = a;
    else throw new Error(`unknown argument ${a}`);
  }
  return options;
}

/** @param {string[]} argv */
async function main(argv) {
  const o = parseArgs(argv);
  if (!o.command || !o.dataDir || !['start', 'stop', 'status'].includes(o.command)) {
    process.stderr.write('usage: node flink.mjs start|stop|status --data <dir> [--rest-port 8081] [--slots 4] [--s3-endpoint URL --s3-access-key K --s3-secret-key S] [--set k=v]... [--json]\n');
    return 2;
  }
  const print = (/** @type {unknown} */ value, /** @type {string} */ text) => process.stdout.write(o.json ? JSON.stringify(value) + '\n' : text + '\n');
  const dataDir = o.dataDir;
  if (o.command === 'start') {
    const { stop, ...info } = await startFlink({ dataDir, restPort: o.restPort ?? 8081, slots: o.slots ?? 4, s3: o.s3, extraConfig: o.set, onProgress: (l) => process.stderr.write(`[flink] ${l}\n`) });
    print(info, `Flink ${info.reused ? 'already running' : 'started'} at ${info.restUrl} (${(info.startMs / 1000).toFixed(1)} s)`);
    return 0;
  }
  if (o.command === 'stop') {
    const result = await stopFlink({ dataDir });
    print(result, result.stopped ? `stopped pids ${result.pids.join(', ')}` : 'Flink was not running');
    return 0;
  }
  const status = await flinkStatus({ dataDir });
  const part = (/** @type {string} */ name, /** @type {{ running: boolean; pid?: number }} */ s) => `${name} ${s.running ? `running (pid ${s.pid})` : 'stopped'}`;
  print(status, `${status.running ? `running at ${status.restUrl}` : 'not running'}: ${part('jobmanager', status.jobManager)}, ${part('taskmanager', status.taskManager)}${status.taskManager.running && !status.taskManager.registered ? ' (not registered)' : ''}`);
  return status.running ? 0 : 3;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
    process.stderr.write(`flink.mjs: ${error.message}\n`);
    process.exit(1);
  });
}
