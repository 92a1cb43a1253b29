#!/usr/bin/env node
// @ts-check
// Local S3-compatible server: S3Proxy 4.0.0 (filesystem-nio2 backend, so objects survive restarts) on
// 127.0.0.1, from the `jar-with-dependencies` assembly on Maven Central. No Docker. Readiness and buckets go
// through @aws-sdk/client-s3, the project's S3 client.
//
// Library (Node 20):
//   import { startS3 } from './s3.mjs';
//   const s3 = await startS3({ dataDir: '/tmp/s3', port: 0, buckets: ['flinkfn'] });   // port 0: a free port
//   s3.endpoint;   // "http://127.0.0.1:NNNNN" (path-style, region us-east-1, SigV4)
//   await s3.stop();
//
// CLI:
//   node packages/local-stack/s3.mjs start  --data <dir> [--port 9000] [--bucket b]... [--json]
//   node packages/local-stack/s3.mjs status --data <dir> [--json]        (exit 3 when not running/answering)
//   node packages/local-stack/s3.mjs stop   --data <dir> [--json]
//
// Layout of <dataDir>:
//   s3proxy.conf                  written on every start
//   blobs/                        jclouds.filesystem.basedir: one directory per bucket, one file per object
//   s3proxy.log                   stdout + stderr of the S3Proxy JVM (appended across starts)
//   s3.pid, s3.json               pid and connection info (incl. the local credentials) of the running server
//   s3proxy.classpath             the jar resolved by Maven and the sha256 of s3/pom.xml (reused while it is unchanged)

import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST, fileSize, freePort, isAlive, javaBin, mavenClasspath, noop, portInUse, readJson, readPid, sleep, spawnDetached, stopProcesses, tail } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const S3PROXY_POM = path.join(HERE, 's3', 'pom.xml');
const MAIN_CLASS = 'org.gaul.s3proxy.Main';
export const S3_REGION = 'us-east-1';
export const DEFAULT_ACCESS_KEY = 'flinkfn-local';
export const DEFAULT_SECRET_KEY = 'flinkfn-local-secret';
// The SDK warns once per process about Node 20 support; the local stack's output is not the place for it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// ---------------------------------------------------------------------------------------------------------
// small helpers

/** @param {string} dataDir */
function paths(dataDir) {
  const d = path.resolve(dataDir);
  return {
    dataDir: d,
    conf: path.join(d, 's3proxy.conf'),
    blobs: path.join(d, 'blobs'),
    log: path.join(d, 's3proxy.log'),
    pid: path.join(d, 's3.pid'),
    state: path.join(d, 's3.json'),
    classpath: path.join(d, 's3proxy.classpath'),
  };
}

/**
 * Whether `pid` is the S3Proxy JVM started with this data dir's s3proxy.conf.
 * @param {ReturnType<typeof paths>} p
 * @param {number | undefined} pid
 */
function serverAlive(p, pid) {
  return isAlive(pid, [`\0${MAIN_CLASS}\0`, `\0${p.conf}\0`]);
}

/** S3 bucket naming rules (the subset that matters for a local server). */
/** @param {string} name */
export function checkBucketName(name) {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new Error(`invalid S3 bucket name "${name}": 3-63 characters, lower-case letters, digits, '.' and '-', starting and ending with a letter or digit`);
  }
  return name;
}

// ---------------------------------------------------------------------------------------------------------
// the jar

/**
 * Returns the path of the S3Proxy jar: `jar` (or env FLINKFN_S3PROXY_JAR) when given, else the one jar s3/pom.xml
 * resolves to (downloads 98 MB the first time; cached in `classpathFile`).
 * @param {{ classpathFile: string; jar?: string; mavenRepoLocal?: string; onProgress?: import('./common.mjs').Progress }} options
 */
export async function resolveS3ProxyJar({ classpathFile, jar = process.env.FLINKFN_S3PROXY_JAR, mavenRepoLocal, onProgress = noop }) {
  if (jar) {
    if (!(await fsp.stat(jar).catch(() => undefined))) throw new Error(`the S3Proxy jar ${jar} does not exist`);
    return path.resolve(jar);
  }
  const classpath = await mavenClasspath({ pom: S3PROXY_POM, cacheFile: classpathFile, mavenRepoLocal, onProgress, what: 'S3Proxy jar' });
  if (!classpath || classpath.includes(path.delimiter)) throw new Error(`Maven resolved an unexpected S3Proxy classpath (expected exactly one jar): ${classpath}`);
  return classpath;
}

// ---------------------------------------------------------------------------------------------------------
// s3proxy.conf

/** The S3Proxy configuration: loopback, SigV2/SigV4 with one local key pair, filesystem-nio2 under `basedir`. */
/** @param {{ port: number; accessKey: string; secretKey: string; basedir: string }} options */
export function s3proxyConf({ port, accessKey, secretKey, basedir }) {
  return [
    '# written by packages/local-stack/s3.mjs on every start; edits are overwritten',
    `s3proxy.endpoint=http://${HOST}:${port}`,
    's3proxy.authorization=aws-v2-or-v4',
    `s3proxy.identity=${accessKey}`,
    `s3proxy.credential=${secretKey}`,
    '# objects are plain files under the basedir, one directory per bucket: they survive restarts',
    'jclouds.provider=filesystem-nio2',
    `jclouds.filesystem.basedir=${basedir}`,
    '# the filesystem backend ignores these, but jclouds wants an identity',
    'jclouds.identity=local',
    'jclouds.credential=local',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// readiness and buckets, through the SDK

/**
 * @typedef {object} S3Connection
 * @property {string} endpoint
 * @property {string} [accessKey]  default 'flinkfn-local'
 * @property {string} [secretKey]  default 'flinkfn-local-secret'
 * @property {string} [region]  default 'us-east-1'
 * @property {number} [timeoutMs]  per request, default 5000
 */

/**
 * Runs `use` with an S3 client for the local server (path-style, one attempt: the callers retry themselves).
 * @template T
 * @param {S3Connection} connection
 * @param {(client: S3Client) => Promise<T>} use
 */
async function withClient({ endpoint, accessKey = DEFAULT_ACCESS_KEY, secretKey = DEFAULT_SECRET_KEY, region = S3_REGION, timeoutMs = 5000 }, use) {
  const client = new S3Client({
    endpoint, region, forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}

/** @param {unknown} error */
function describeS3Error(error) {
  const e = /** @type {{ name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } }} */ (error);
  const status = e.$metadata?.httpStatusCode;
  return status ? `HTTP ${status} ${e.name}` : (e.code ?? e.name ?? String(error));
}

/**
 * Probes `endpoint` with a signed ListBuckets. `{ ok: true }` when it answers; otherwise `{ ok: false, why }` (no
 * answer, or the HTTP status and S3 error code, e.g. 403 SignatureDoesNotMatch).
 * @param {S3Connection} connection
 * @returns {Promise<{ ok: boolean; why?: string }>}
 */
export async function probeS3(connection) {
  try {
    await withClient({ timeoutMs: 2000, ...connection }, (client) => client.send(new ListBucketsCommand({})));
    return { ok: true };
  } catch (error) {
    return { ok: false, why: describeS3Error(error) };
  }
}

/**
 * Creates the buckets that do not exist yet. Returns the names it created.
 * @param {S3Connection & { buckets: string[]; onProgress?: import('./common.mjs').Progress }} options
 */
export async function ensureBuckets({ buckets, onProgress = noop, ...connection }) {
  buckets.forEach(checkBucketName);
  return withClient(connection, async (client) => {
    /** @type {string[]} */
    const created = [];
    for (const bucket of buckets) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        continue;
      } catch (error) {
        if (/** @type {{ name?: string }} */ (error).name !== 'NotFound') throw new Error(`HEAD bucket ${bucket} on ${connection.endpoint}: ${describeS3Error(error)}`);
      }
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        created.push(bucket);
        onProgress(`bucket ${bucket}: created`);
      } catch (error) {
        if (/** @type {{ name?: string }} */ (error).name !== 'BucketAlreadyOwnedByYou') throw new Error(`cannot create bucket ${bucket} on ${connection.endpoint}: ${describeS3Error(error)}`);
      }
    }
    return created;
  });
}

// ---------------------------------------------------------------------------------------------------------
// start / stop / status

/**
 * @typedef {object} StartS3Options
 * @property {string} dataDir  s3proxy.conf, blobs/ (the buckets), s3proxy.log, s3.json, s3.pid; created if missing
 * @property {number} [port]  port on 127.0.0.1, default 9000; 0 picks a free one
 * @property {string} [accessKey]  default 'flinkfn-local'
 * @property {string} [secretKey]  default 'flinkfn-local-secret'
 * @property {string[]} [buckets]  created if missing (also when a running server is reused)
 * @property {'reuse' | 'error'} [ifRunning]  'reuse' (default): a running server is returned (reused: true); 'error': throw (code EALREADY)
 * @property {number} [timeoutMs]  readiness timeout after the JVM is spawned (Maven not included), default 60000
 * @property {import('./common.mjs').Progress} [onProgress]
 * @property {string} [mavenRepoLocal]  -Dmaven.repo.local for resolving the jar
 * @property {string} [jar]  an s3proxy jar-with-dependencies to use instead of Maven's (also env FLINKFN_S3PROXY_JAR)
 * @property {string} [heap]  -Xmx of the JVM, default '256m'
 * @property {string[]} [jvmArgs]
 */

/**
 * @typedef {object} S3Info  what s3.json records
 * @property {string} endpoint  http://127.0.0.1:PORT
 * @property {number} port
 * @property {number} pid
 * @property {'us-east-1'} region
 * @property {string} accessKey
 * @property {string} secretKey
 * @property {string} dataDir
 * @property {string} logFile
 */

/** @typedef {{ stopped: boolean; pids: number[]; killed?: boolean; stopMs?: number }} StopS3Result */

/**
 * Starts S3Proxy in `dataDir` (created if missing) and resolves once it answers a signed ListBuckets, then creates
 * the missing `buckets`. Objects survive restarts (files under blobs/).
 * Errors: `code` 'EADDRINUSE' (with `port`) when the port is taken by something else, 'EALREADY' when a server
 * already runs in dataDir and `ifRunning` is 'error'.
 * @param {StartS3Options} options
 * @returns {Promise<S3Info & { startMs: number; reused: boolean; stop: () => Promise<StopS3Result> }>}
 */
export async function startS3({
  dataDir,
  port = 9000,
  accessKey = DEFAULT_ACCESS_KEY,
  secretKey = DEFAULT_SECRET_KEY,
  buckets = [],
  ifRunning = 'reuse',
  timeoutMs = 60_000,
  onProgress = noop,
  mavenRepoLocal,
  jar,
  heap = '256m',
  jvmArgs = [],
}) {
  if (!dataDir) throw new Error('startS3: dataDir is required');
  if (!accessKey || !secretKey || /[\r\n]/.test(accessKey + secretKey)) throw new Error('startS3: accessKey and secretKey must be non-empty single-line strings');
  buckets.forEach(checkBucketName);
  const t0 = Date.now();
  const p = paths(dataDir);
  await fsp.mkdir(p.blobs, { recursive: true });
  const stop = () => stopS3({ dataDir: p.dataDir, onProgress });

  const running = await s3Status({ dataDir: p.dataDir });
  if (running.running) {
    if (ifRunning !== 'reuse') {
      throw Object.assign(new Error(`S3Proxy is already running in ${p.dataDir} (pid ${running.pid}, ${running.endpoint})`), { code: 'EALREADY' });
    }
    if (!running.answering) {
      throw new Error(`S3Proxy runs in ${p.dataDir} (pid ${running.pid}) but ${running.endpoint} does not answer (${running.why}); stop it with: node ${path.join(HERE, 's3.mjs')} stop --data ${p.dataDir}`);
    }
    onProgress(`S3Proxy already running (pid ${running.pid}, ${running.endpoint})`);
    await ensureBuckets({ endpoint: running.endpoint, buckets, accessKey: running.accessKey, secretKey: running.secretKey, onProgress });
    const { answering, why, running: _, ...info } = running;
    return { ...info, startMs: Date.now() - t0, reused: true, stop };
  }
  await fsp.rm(p.pid, { force: true });

  if (port === 0) port = await freePort();
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`startS3: invalid port ${port}`);
  if (await portInUse(port)) {
    throw Object.assign(new Error(`port ${port} on ${HOST} is already in use (S3Proxy wants it)`), { code: 'EADDRINUSE', port });
  }

  const jarFile = await resolveS3ProxyJar({ classpathFile: p.classpath, jar, mavenRepoLocal, onProgress });
  await fsp.writeFile(p.conf, s3proxyConf({ port, accessKey, secretKey, basedir: p.blobs }), { mode: 0o600 });

  // start detached: the server outlives this process (the CLI exits after `start`)
  const logStart = fileSize(p.log);
  await fsp.appendFile(p.log, `--- ${new Date().toISOString()} s3.mjs: starting S3Proxy on ${HOST}:${port}\n`);
  const java = javaBin();
  const { pid, exited } = spawnDetached(java, [
    '-Xms32m', `-Xmx${heap}`, '-XX:+UseSerialGC', '-Djava.awt.headless=true',
    // the jar's logback.xml is fine; its configuration status dump (~30 lines per start) is not
    '-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener',
    ...jvmArgs, '-cp', jarFile, MAIN_CLASS, '--properties', p.conf,
  ], { logFile: p.log, cwd: p.dataDir, env: { ...process.env, LOG_LEVEL: process.env.S3PROXY_LOG_LEVEL ?? 'info' } });
  await fsp.writeFile(p.pid, `${pid}\n`);
  /** @type {S3Info} */
  const info = { endpoint: `http://${HOST}:${port}`, port, pid, region: S3_REGION, accessKey, secretKey, dataDir: p.dataDir, logFile: p.log };
  await fsp.writeFile(p.state, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  onProgress(`S3Proxy: started pid ${pid} on ${info.endpoint}, log ${p.log}`);

  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  for (;;) {
    await sleep(150);
    const exit = exited();
    if (exit) {
      await fsp.rm(p.pid, { force: true });
      throw new Error(`S3Proxy exited during startup (${exit}); last lines of ${p.log}:\n${tail(p.log, 40, logStart)}`);
    }
    const probe = await probeS3({ endpoint: info.endpoint, accessKey, secretKey });
    if (probe.ok) break;
    if (Date.now() > deadline) {
      await stop().catch(noop);
      throw new Error(`S3Proxy was not ready after ${timeoutMs} ms (signed ListBuckets on ${info.endpoint}: ${probe.why}); last lines of ${p.log}:\n${tail(p.log, 40, logStart)}`);
    }
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      onProgress(`S3Proxy: waiting (${Math.round((Date.now() - t0) / 1000)} s; ${probe.why})`);
    }
  }
  try {
    await ensureBuckets({ endpoint: info.endpoint, buckets, accessKey, secretKey, onProgress });
  } catch (e) {
    await stop().catch(noop);
    throw new Error(`${/** @type {Error} */ (e).message}; last lines of ${p.log}:\n${tail(p.log, 40, logStart)}`);
  }
  const startMs = Date.now() - t0;
  onProgress(`S3Proxy: ready on ${info.endpoint} after ${(startMs / 1000).toFixed(1)} s`);
  return { ...info, startMs, reused: false, stop };
}

/**
 * Stops the S3Proxy of `dataDir`: SIGTERM to its process group, then SIGKILL after `timeoutMs`.
 * @param {{ dataDir: string; timeoutMs?: number; onProgress?: import('./common.mjs').Progress }} options
 * @returns {Promise<StopS3Result>}
 */
export async function stopS3({ dataDir, timeoutMs = 15_000, onProgress = noop }) {
  if (!dataDir) throw new Error('stopS3: dataDir is required');
  const p = paths(dataDir);
  const t0 = Date.now();
  const { pids, killed } = await stopProcesses([readPid(p.pid)], (pid) => serverAlive(p, pid), timeoutMs);
  await fsp.rm(p.pid, { force: true });
  if (pids.length === 0) {
    onProgress('S3Proxy: not running');
    return { stopped: false, pids };
  }
  const stopMs = Date.now() - t0;
  onProgress(`S3Proxy: stopped after ${(stopMs / 1000).toFixed(1)} s${killed ? ' (killed)' : ''}`);
  return { stopped: true, pids, killed, stopMs };
}

/**
 * Tells whether the S3Proxy of `dataDir` runs (`running`) and answers a signed ListBuckets (`answering`).
 * @param {{ dataDir: string }} options
 * @returns {Promise<{ running: false; dataDir: string; logFile: string } | (S3Info & { running: true; answering: boolean; why?: string })>}
 */
export async function s3Status({ dataDir }) {
  if (!dataDir) throw new Error('s3Status: dataDir is required');
  const p = paths(dataDir);
  const pid = readPid(p.pid);
  /** @type {S3Info | undefined} */
  const state = readJson(p.state);
  if (!state || state.pid !== pid || !serverAlive(p, pid)) return { running: false, dataDir: p.dataDir, logFile: p.log };
  const probe = await probeS3(state);
  return { ...state, running: true, answering: probe.ok, ...(probe.ok ? {} : { why: probe.why }) };
}

// ---------------------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage: node s3.mjs <start|stop|status> --data <dir> [options]

  start    start S3Proxy (filesystem backend under <data>/blobs) in the background; prints when ready
           --port N              port on 127.0.0.1 (default 9000; 0 = a free port)
           --bucket NAME         create this bucket if missing (repeatable)
           --access-key K        default ${DEFAULT_ACCESS_KEY}
           --secret-key S        default ${DEFAULT_SECRET_KEY}
           --maven-repo <dir>    Maven local repository (-Dmaven.repo.local)
           --jar <file>          use this s3proxy jar-with-dependencies instead of resolving it with Maven
           --heap 256m           -Xmx of the JVM
           --timeout <seconds>   readiness timeout (default 60)
           If S3Proxy already runs in <data>, start reports it (and creates missing buckets) and exits 0.
  stop     SIGTERM the S3Proxy of <data>, SIGKILL after --timeout seconds (default 15)
  status   exit 0 when the S3Proxy of <data> runs and answers, 3 otherwise

  --json   print the result as one JSON line on stdout (progress always goes to stderr)
  Clients: path-style requests, region ${S3_REGION}, SigV4 (or V2) with the access/secret key above.
`;

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {{ cmd?: string; buckets: string[]; data?: string; port?: number; accessKey?: string; secretKey?: string; mavenRepo?: string;
   *   jar?: string; heap?: string; timeout?: number; json?: boolean }} */
  const o = { cmd: argv[0], buckets: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i] ?? '';
    };
    switch (a) {
      case '--data': o.data = val(); break;
      case '--port': {
        const v = val();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port: not a port: ${v}`);
        o.port = n;
        break;
      }
      case '--bucket': o.buckets.push(val()); break;
      case '--access-key': o.accessKey = val(); break;
      case '--secret-key': o.secretKey = val(); break;
      case '--maven-repo': o.mavenRepo = val(); break;
      case '--jar': o.jar = val(); break;
      case '--heap': o.heap = val(); break;
      case '--timeout': {
        const v = val();
        o.timeout = Number(v);
        if (!(Number(v) > 0)) throw new Error(`--timeout: not a number of seconds: ${v}`);
        break;
      }
      case '--json': o.json = true; break;
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
  const progress = (/** @type {string} */ m) => process.stderr.write(`[s3] ${m}\n`);
  const out = (/** @type {unknown} */ obj, /** @type {string} */ text) => process.stdout.write(o.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  switch (o.cmd) {
    case 'start': {
      const s = await startS3({
        dataDir: data,
        port: o.port ?? 9000,
        buckets: o.buckets,
        ...(o.accessKey ? { accessKey: o.accessKey } : {}),
        ...(o.secretKey ? { secretKey: o.secretKey } : {}),
        ...(o.mavenRepo ? { mavenRepoLocal: o.mavenRepo } : {}),
        ...(o.jar ? { jar: o.jar } : {}),
        ...(o.heap ? { heap: o.heap } : {}),
        ...(o.timeout ? { timeoutMs: o.timeout * 1000 } : {}),
        ifRunning: 'reuse',
        onProgress: progress,
      });
      const { stop, ...info } = s;
      out(info, `S3Proxy ${s.reused ? 'already running' : 'ready'}: endpoint ${s.endpoint} (region ${s.region}, path-style, access key ${s.accessKey}; pid ${s.pid}, log ${s.logFile})`);
      return 0;
    }
    case 'stop': {
      const r = await stopS3({ dataDir: data, ...(o.timeout ? { timeoutMs: o.timeout * 1000 } : {}), onProgress: progress });
      out(r, r.stopped ? `stopped (pid ${r.pids.join(', ')})` : 'not running');
      return 0;
    }
    case 'status': {
      const s = await s3Status({ dataDir: data });
      out(s, s.running ? `running: pid ${s.pid}, endpoint ${s.endpoint}, ${s.answering ? 'answering' : `NOT answering (${s.why})`}` : 'not running');
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
      process.stderr.write(`[s3] error: ${e.message}\n`);
      process.exit(1);
    },
  );
}
