#!/usr/bin/env node
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
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPENDENCY_PLUGIN, HOST, freePort, isAlive, javaBin, mavenClasspath, noop, portInUse, readJson, run, sleep, stopProcesses, tail } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FLINK_POM = path.join(HERE, 'flink', 'pom.xml');
const LOG4J2 = path.join(HERE, 'flink', 'log4j2.properties');
const S3_PLUGIN = { group: 'org.apache.flink', artifact: 'flink-s3-fs-presto', version: '2.2.0' };
const JOB_MANAGER_CLASS = 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint';
const TASK_MANAGER_CLASS = 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner';
const MARKER = 'flink.local.data=';

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

function paths(dataDir) {
  const d = path.resolve(dataDir);
  return {
    dataDir: d, conf: path.join(d, 'conf'), logDir: path.join(d, 'log'), tmp: path.join(d, 'tmp'), upload: path.join(d, 'upload'),
    plugins: path.join(d, 'plugins'), state: path.join(d, 'flink.json'), classpathCache: path.join(d, 'flink.classpath.json'),
  };
}

async function overview(restUrl) {
  try {
    const response = await fetch(`${restUrl}/overview`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

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

function configYaml({ p, restPort, rpcPort, slots, s3, extraConfig }) {
  const config = {
    'jobmanager.rpc.address': HOST, 'jobmanager.rpc.port': rpcPort, 'jobmanager.bind-host': HOST,
    'rest.address': HOST, 'rest.bind-address': HOST, 'rest.port': restPort,
    'web.upload.dir': p.upload, 'blob.server.port': 0,
    'taskmanager.host': HOST, 'taskmanager.bind-host': HOST, 'taskmanager.rpc.port': 0, 'taskmanager.data.port': 0,
    // The TaskManager starts beside the JobManager; before the ResourceManager answers it retries after this
    // delay (default 10 s, which made every start take 15 s instead of 6).
    'cluster.registration.error-delay': 500,
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

function launch(p, role, mainClass, jvm, classpath, env) {
  const logFile = path.join(p.logDir, `${role}.log`);
  const out = fs.openSync(path.join(p.logDir, `${role}.out`), 'a');
  const child = spawn(javaBin(), [
    ...jvm, ...JAVA17_OPENS, `-D${MARKER}${p.dataDir}`, `-Dlog.file=${logFile}`, `-Dlog4j.configurationFile=${LOG4J2}`,
    '-cp', classpath, mainClass, '--configDir', p.conf,
  ], { detached: true, stdio: ['ignore', out, out], env });
  child.unref();
  fs.closeSync(out);
  return child.pid;
}

/** Starts the cluster (or reuses the one running in dataDir) and resolves when its TaskManager has registered. */
export async function startFlink({
  dataDir, restPort = 8081, slots = 4, s3, extraConfig = {}, heap = {}, ifRunning = 'reuse', timeoutMs = 120_000,
  onProgress = noop, mavenRepoLocal, classpathFile,
} = {}) {
  if (!dataDir) throw new Error('startFlink: dataDir is required');
  const p = paths(dataDir);
  const t0 = Date.now();
  const previous = readJson(p.state);
  const stop = () => stopFlink({ dataDir });
  if (previous && isAlive(previous.jobManagerPid, MARKER + p.dataDir) && isAlive(previous.taskManagerPid, MARKER + p.dataDir) && (await overview(previous.restUrl))) {
    if (ifRunning !== 'reuse') throw new Error(`Flink already runs in ${p.dataDir} (${previous.restUrl})`);
    return { ...previous, dataDir: p.dataDir, logDir: p.logDir, startMs: Date.now() - t0, reused: true, stop };
  }
  if (previous) await stopFlink({ dataDir });
  for (const dir of [p.conf, p.logDir, p.tmp, p.upload]) fs.mkdirSync(dir, { recursive: true });
  const port = restPort === 0 ? await freePort() : restPort;
  if (await portInUse(port)) {
    throw new Error(`port ${port} (Flink REST) is in use by another program; choose another with --rest-port (flinkfn: FLINKFN_LOCAL_FLINK_PORT)`);
  }
  const rpcPort = await freePort();
  const classpath = await mavenClasspath({ pom: FLINK_POM, cacheFile: classpathFile ?? p.classpathCache, mavenRepoLocal, onProgress, what: 'Flink 2.2.1 classpath' });
  if (s3) await installS3Plugin(p, mavenRepoLocal, onProgress);
  fs.writeFileSync(path.join(p.conf, 'config.yaml'), configYaml({ p, restPort: port, rpcPort, slots, s3, extraConfig }));
  const env = { ...process.env, FLINK_PLUGINS_DIR: p.plugins, FLINK_CONF_DIR: p.conf };
  const restUrl = `http://${HOST}:${port}`;
  const logStart = Object.fromEntries(['jobmanager', 'taskmanager'].map((role) => {
    const file = path.join(p.logDir, `${role}.log`);
    return [role, fs.existsSync(file) ? fs.statSync(file).size : 0];
  }));
  onProgress(`starting the Flink JobManager and TaskManager (REST ${restUrl})`);
  const jobManagerPid = launch(p, 'jobmanager', JOB_MANAGER_CLASS, [`-Xms${heap.jobManager ?? '512m'}`, `-Xmx${heap.jobManager ?? '512m'}`], classpath, env);
  const taskManagerPid = launch(p, 'taskmanager', TASK_MANAGER_CLASS, TM_JVM, classpath, env);
  const state = { restUrl, restPort: port, rpcPort, jobManagerPid, taskManagerPid };
  fs.writeFileSync(p.state, JSON.stringify(state));

  const deadline = Date.now() + timeoutMs;
  let lastProgress = Date.now();
  for (;;) {
    const info = await overview(restUrl);
    if (info && info.taskmanagers >= 1) break;
    for (const [role, pid] of [['jobmanager', jobManagerPid], ['taskmanager', taskManagerPid]]) {
      if (!isAlive(pid, MARKER + p.dataDir)) {
        await stopFlink({ dataDir });
        throw new Error(`the Flink ${role} exited while starting; end of ${role}.log:\n${tail(path.join(p.logDir, `${role}.log`), 30, logStart[role])}\n${tail(path.join(p.logDir, `${role}.out`), 10)}`);
      }
    }
    if (Date.now() > deadline) {
      await stopFlink({ dataDir });
      throw new Error(`Flink did not become ready within ${timeoutMs / 1000} s (${info ? 'no TaskManager registered' : 'REST did not answer'}); end of jobmanager.log:\n${tail(path.join(p.logDir, 'jobmanager.log'), 30, logStart.jobmanager)}`);
    }
    if (Date.now() - lastProgress > 5000) {
      onProgress(`waiting for Flink (${Math.round((Date.now() - t0) / 1000)} s)`);
      lastProgress = Date.now();
    }
    await sleep(200);
  }
  return { ...state, dataDir: p.dataDir, logDir: p.logDir, startMs: Date.now() - t0, reused: false, stop };
}

/** Stops the cluster recorded in dataDir (only its own processes). */
export async function stopFlink({ dataDir, timeoutMs = 30_000 } = {}) {
  const p = paths(dataDir);
  const state = readJson(p.state);
  if (!state) return { stopped: false, pids: [] };
  const pids = await stopProcesses([state.taskManagerPid, state.jobManagerPid], MARKER + p.dataDir, timeoutMs);
  fs.rmSync(p.state, { force: true });
  return { stopped: pids.length > 0, pids };
}

export async function flinkStatus({ dataDir } = {}) {
  const p = paths(dataDir);
  const state = readJson(p.state);
  if (!state) return { running: false };
  const alive = isAlive(state.jobManagerPid, MARKER + p.dataDir) && isAlive(state.taskManagerPid, MARKER + p.dataDir);
  const info = alive ? await overview(state.restUrl) : undefined;
  return {
    running: Boolean(info),
    restUrl: state.restUrl,
    jobManagerPid: state.jobManagerPid,
    taskManagerPid: state.taskManagerPid,
    ...(info ? { taskManagers: info.taskmanagers, slotsTotal: info['slots-total'], slotsAvailable: info['slots-available'], jobsRunning: info['jobs-running'] } : {}),
  };
}

function parseArgs(argv) {
  const options = { set: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i];
    if (a === '--data') options.dataDir = value();
    else if (a === '--rest-port') options.restPort = Number(value());
    else if (a === '--slots') options.slots = Number(value());
    else if (a === '--s3-endpoint') (options.s3 ??= {}).endpoint = value();
    else if (a === '--s3-access-key') (options.s3 ??= {}).accessKey = value();
    else if (a === '--s3-secret-key') (options.s3 ??= {}).secretKey = value();
    else if (a === '--set') { const [k, ...v] = value().split('='); options.set[k] = v.join('='); }
    else if (a === '--json') options.json = true;
    else if (!options.command) options.command = a;
    else throw new Error(`unknown argument ${a}`);
  }
  return options;
}

async function main(argv) {
  const o = parseArgs(argv);
  if (!o.command || !o.dataDir || !['start', 'stop', 'status'].includes(o.command)) {
    process.stderr.write('usage: node flink.mjs start|stop|status --data <dir> [--rest-port 8081] [--slots 4] [--s3-endpoint URL --s3-access-key K --s3-secret-key S] [--set k=v]... [--json]\n');
    return 2;
  }
  const print = (value, text) => process.stdout.write(o.json ? JSON.stringify(value) + '\n' : text + '\n');
  if (o.command === 'start') {
    const { stop, ...info } = await startFlink({ dataDir: o.dataDir, restPort: o.restPort ?? 8081, slots: o.slots ?? 4, s3: o.s3, extraConfig: o.set, onProgress: (l) => process.stderr.write(`[flink] ${l}\n`) });
    print(info, `Flink ${info.reused ? 'already running' : 'started'} at ${info.restUrl} (${(info.startMs / 1000).toFixed(1)} s)`);
    return 0;
  }
  if (o.command === 'stop') {
    const result = await stopFlink({ dataDir: o.dataDir });
    print(result, result.stopped ? `stopped pids ${result.pids.join(', ')}` : 'Flink was not running');
    return 0;
  }
  const status = await flinkStatus({ dataDir: o.dataDir });
  print(status, status.running ? `running at ${status.restUrl}: ${status.taskManagers} TaskManager(s), ${status.slotsAvailable}/${status.slotsTotal} slots free` : 'not running');
  return status.running ? 0 : 3;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
    process.stderr.write(`flink.mjs: ${error.message}\n`);
    process.exit(1);
  });
}
