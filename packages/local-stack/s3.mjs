#!/usr/bin/env node
// Local S3-compatible server: S3Proxy 4.0.0 (filesystem-nio2 backend, so objects survive restarts) on
// 127.0.0.1, from the `jar-with-dependencies` assembly on Maven Central. No Docker, no npm dependencies.
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
//   s3proxy.classpath[.sha256]    path of the jar resolved by Maven (reused while s3/pom.xml is unchanged)

import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, javaBin, noop, portInUse, readJson, readPid, run, sleep, tail } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const S3PROXY_POM = path.join(HERE, 's3', 'pom.xml');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.11.0';
const MAIN_CLASS = 'org.gaul.s3proxy.Main';
const HOST = '127.0.0.1';
export const S3_REGION = 'us-east-1';
export const DEFAULT_ACCESS_KEY = 'flinkfn-local';
export const DEFAULT_SECRET_KEY = 'flinkfn-local-secret';

// ---------------------------------------------------------------------------------------------------------
// small helpers

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

/** True when `pid` is a live (non-zombie) S3Proxy JVM started with `confFile`. */
function isAlive(pid, confFile) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  // Linux: make sure the pid was not reused by something else (zombies count as dead)
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes(MAIN_CLASS) && (!confFile || args.includes(confFile));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** S3 bucket naming rules (the subset that matters for a local server). */
export function checkBucketName(name) {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new Error(`invalid S3 bucket name "${name}": 3-63 characters, lower-case letters, digits, '.' and '-', starting and ending with a letter or digit`);
  }
  return name;
}

// ---------------------------------------------------------------------------------------------------------
// the jar

/**
 * Returns the path of the S3Proxy jar. `jar` (or env FLINKFN_S3PROXY_JAR) wins; otherwise the cached
 * `classpathFile` while it was resolved from the same s3/pom.xml and the jar exists; otherwise
 * `mvn -B -q -f s3/pom.xml maven-dependency-plugin:3.11.0:build-classpath` (downloads 98 MB the first time).
 */
export async function resolveS3ProxyJar({
  classpathFile,
  jar = process.env.FLINKFN_S3PROXY_JAR,
  mavenRepoLocal,
  mvn = process.env.MVN || 'mvn',
  refresh = false,
  onProgress = noop,
} = {}) {
  if (jar) {
    if (!fs.existsSync(jar)) throw new Error(`the S3Proxy jar ${jar} does not exist`);
    return path.resolve(jar);
  }
  if (!classpathFile) throw new Error('resolveS3ProxyJar: classpathFile is required');
  const pomSha = createHash('sha256').update(fs.readFileSync(S3PROXY_POM)).digest('hex');
  const stampFile = `${classpathFile}.sha256`;
  if (!refresh && fs.existsSync(classpathFile)) {
    const cp = fs.readFileSync(classpathFile, 'utf8').trim();
    const stamp = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '';
    if (stamp === pomSha && cp && !cp.includes(path.delimiter) && fs.existsSync(cp)) {
      onProgress(`jar: cached (${cp})`);
      return cp;
    }
    onProgress('jar: cache is stale, resolving again');
  }
  await fsp.mkdir(path.dirname(classpathFile), { recursive: true });
  const tmp = `${classpathFile}.${process.pid}.tmp`;
  const args = ['-B', '-q', '-f', S3PROXY_POM];
  if (mavenRepoLocal) args.push(`-Dmaven.repo.local=${path.resolve(mavenRepoLocal)}`);
  args.push(`${DEPENDENCY_PLUGIN}:build-classpath`, `-Dmdep.outputFile=${tmp}`);
  onProgress(`jar: resolving with Maven (first run downloads ~100 MB): ${mvn} ${args.join(' ')}`);
  const t0 = Date.now();
  const ticker = setInterval(() => onProgress(`jar: still resolving (${Math.round((Date.now() - t0) / 1000)} s)`), 10_000);
  let res;
  try {
    res = await run(mvn, args);
  } finally {
    clearInterval(ticker);
  }
  if (res.code !== 0 || !fs.existsSync(tmp)) {
    await fsp.rm(tmp, { force: true });
    // Maven 3.8 prints bare ESC[0m sequences even with -B -q
    throw new Error(`Maven could not resolve the S3Proxy jar (exit ${res.code}):\n${res.out.replace(/\x1b\[[0-9;]*m/g, '').trim()}`);
  }
  const cp = fs.readFileSync(tmp, 'utf8').trim();
  if (!cp || cp.includes(path.delimiter) || !fs.existsSync(cp)) {
    await fsp.rm(tmp, { force: true });
    throw new Error(`Maven resolved an unexpected S3Proxy classpath (expected exactly one jar): ${cp}`);
  }
  await fsp.rename(tmp, classpathFile);
  await fsp.writeFile(stampFile, `${pomSha}\n`);
  onProgress(`jar: resolved ${cp} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return cp;
}

// ---------------------------------------------------------------------------------------------------------
// s3proxy.conf

/** The S3Proxy configuration: loopback, SigV2/SigV4 with one local key pair, filesystem-nio2 under `basedir`. */
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
// a minimal SigV4 client (readiness probe, bucket creation)

const sha256hex = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * One SigV4-signed path-style request to an S3 endpoint. Resolves `{ status, headers, body }` (body as a
 * string) for any HTTP status; rejects only on network errors/timeouts.
 */
export function s3Request({
  endpoint, method = 'GET', path: reqPath = '/', query = {}, body = '', headers = {},
  region = S3_REGION, accessKey = DEFAULT_ACCESS_KEY, secretKey = DEFAULT_SECRET_KEY, timeoutMs = 5000,
}) {
  const url = new URL(endpoint);
  const host = url.host;
  const now = new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20261123T101010Z
  const date = amzDate.slice(0, 8);
  const payload = Buffer.from(body);
  const payloadHash = sha256hex(payload);
  const canonicalUri = reqPath.split('/').map(rfc3986).join('/') || '/';
  const canonicalQuery = Object.keys(query).sort().map((k) => `${rfc3986(k)}=${rfc3986(String(query[k]))}`).join('&');
  const allHeaders = { ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v).trim()])), host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
  const names = Object.keys(allHeaders).sort();
  const canonicalHeaders = names.map((n) => `${n}:${allHeaders[n]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date), region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  allHeaders.authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  allHeaders['content-length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port || 80, method, path: canonicalUri + (canonicalQuery ? `?${canonicalQuery}` : ''),
      headers: allHeaders, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${endpoint}${reqPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const s3ErrorCode = (body) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];

/**
 * Probes `endpoint` with a signed ListBuckets. `{ ok: true }` on 200; otherwise `{ ok: false, why }` (no
 * answer, or the HTTP status and S3 error code, e.g. 403 SignatureDoesNotMatch).
 */
export async function probeS3({ endpoint, accessKey = DEFAULT_ACCESS_KEY, secretKey = DEFAULT_SECRET_KEY, region = S3_REGION, timeoutMs = 2000 }) {
  try {
    const res = await s3Request({ endpoint, accessKey, secretKey, region, timeoutMs });
    if (res.status === 200 && res.body.includes('ListAllMyBucketsResult')) return { ok: true };
    return { ok: false, why: `HTTP ${res.status}${s3ErrorCode(res.body) ? ` ${s3ErrorCode(res.body)}` : ''}` };
  } catch (e) {
    return { ok: false, why: e.code ?? e.message };
  }
}

/** Creates the buckets that do not exist yet (HEAD, then PUT). Returns the names it created. */
export async function ensureBuckets({ endpoint, buckets, accessKey = DEFAULT_ACCESS_KEY, secretKey = DEFAULT_SECRET_KEY, region = S3_REGION, onProgress = noop }) {
  const created = [];
  for (const bucket of buckets) {
    checkBucketName(bucket);
    const head = await s3Request({ endpoint, method: 'HEAD', path: `/${bucket}`, accessKey, secretKey, region });
    if (head.status === 200) continue;
    if (head.status !== 404) throw new Error(`HEAD bucket ${bucket} on ${endpoint}: HTTP ${head.status}`);
    const put = await s3Request({ endpoint, method: 'PUT', path: `/${bucket}`, accessKey, secretKey, region });
    if (put.status === 200 || (put.status === 409 && s3ErrorCode(put.body) === 'BucketAlreadyOwnedByYou')) {
      if (put.status === 200) {
        created.push(bucket);
        onProgress(`bucket ${bucket}: created`);
      }
      continue;
    }
    throw new Error(`cannot create bucket ${bucket} on ${endpoint}: HTTP ${put.status} ${s3ErrorCode(put.body) ?? ''}\n${put.body.slice(0, 500)}`.trim());
  }
  return created;
}

// ---------------------------------------------------------------------------------------------------------
// start / stop / status

/**
 * Starts S3Proxy in `dataDir` (created if missing) and resolves once it is ready: its port answers a
 * SigV4-signed ListBuckets with 200. Then creates the missing `buckets`.
 *
 * Errors: `code` 'EADDRINUSE' (with `port`) when the port is taken by something else, 'EALREADY' when a
 * server already runs in dataDir and `ifRunning` is 'error'.
 *
 * @param {object} o
 * @param {string} o.dataDir
 * @param {number} [o.port=9000]            0 picks a free port
 * @param {string} [o.accessKey='flinkfn-local']
 * @param {string} [o.secretKey='flinkfn-local-secret']
 * @param {string[]} [o.buckets=[]]         created if missing (also when an already running server is reused)
 * @param {'reuse'|'error'} [o.ifRunning='reuse']
 * @param {number} [o.timeoutMs=60000]      readiness timeout (Maven resolution not included)
 * @param {(msg: string) => void} [o.onProgress]
 * @param {string} [o.mavenRepoLocal]       passed to Maven as -Dmaven.repo.local
 * @param {string} [o.jar]                  an S3Proxy jar-with-dependencies to use instead of Maven's
 * @param {string} [o.heap='256m']          -Xmx of the JVM
 * @param {string[]} [o.jvmArgs]
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
} = {}) {
  if (!dataDir) throw new Error('startS3: dataDir is required');
  if (!accessKey || !secretKey || /[\r\n]/.test(accessKey + secretKey)) throw new Error('startS3: accessKey and secretKey must be non-empty single-line strings');
  buckets.forEach(checkBucketName);
  const t0 = Date.now();
  const p = paths(dataDir);
  await fsp.mkdir(p.blobs, { recursive: true });

  const running = await s3Status({ dataDir: p.dataDir });
  if (running.running) {
    if (ifRunning !== 'reuse') {
      const err = new Error(`S3Proxy is already running in ${p.dataDir} (pid ${running.pid}, ${running.endpoint})`);
      err.code = 'EALREADY';
      throw err;
    }
    if (!running.answering) {
      throw new Error(`S3Proxy runs in ${p.dataDir} (pid ${running.pid}) but ${running.endpoint} does not answer (${running.why}); stop it with: node ${path.join(HERE, 's3.mjs')} stop --data ${p.dataDir}`);
    }
    onProgress(`S3Proxy already running (pid ${running.pid}, ${running.endpoint})`);
    await ensureBuckets({ endpoint: running.endpoint, buckets, accessKey: running.accessKey, secretKey: running.secretKey, onProgress });
    const { answering, why, ...info } = running;
    return { ...info, startMs: Date.now() - t0, reused: true, stop: () => stopS3({ dataDir: p.dataDir, onProgress }) };
  }
  await fsp.rm(p.pid, { force: true });

  if (port === 0) port = await freePort();
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`startS3: invalid port ${port}`);
  if (await portInUse(port)) {
    const err = new Error(`port ${port} on ${HOST} is already in use (S3Proxy wants it)`);
    err.code = 'EADDRINUSE';
    err.port = port;
    throw err;
  }

  const jarFile = await resolveS3ProxyJar({ classpathFile: p.classpath, jar, mavenRepoLocal, onProgress });
  await fsp.writeFile(p.conf, s3proxyConf({ port, accessKey, secretKey, basedir: p.blobs }), { mode: 0o600 });

  // start detached: the server outlives this process (the CLI exits after `start`)
  const logFd = fs.openSync(p.log, 'a');
  const logStart = fs.fstatSync(logFd).size;
  fs.writeSync(logFd, `--- ${new Date().toISOString()} s3.mjs: starting S3Proxy on ${HOST}:${port}\n`);
  const java = javaBin();
  const args = [
    '-Xms32m', `-Xmx${heap}`, '-XX:+UseSerialGC', '-Djava.awt.headless=true',
    // the jar's logback.xml is fine; its configuration status dump (~30 lines per start) is not
    '-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener',
    ...jvmArgs, '-cp', jarFile, MAIN_CLASS, '--properties', p.conf,
  ];
  const child = spawn(java, args, {
    cwd: p.dataDir, detached: true, stdio: ['ignore', logFd, logFd],
    env: { ...process.env, LOG_LEVEL: process.env.S3PROXY_LOG_LEVEL ?? 'info' },
  });
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
    endpoint: `http://${HOST}:${port}`, port, pid, region: S3_REGION, accessKey, secretKey, dataDir: p.dataDir, logFile: p.log,
  };
  await fsp.writeFile(p.state, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  onProgress(`S3Proxy: started pid ${pid} on ${info.endpoint}, log ${p.log}`);

  const stop = () => stopS3({ dataDir: p.dataDir, onProgress });
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  let probe = { ok: false, why: 'not probed yet' };
  for (;;) {
    await sleep(150);
    if (exited) {
      await fsp.rm(p.pid, { force: true });
      throw new Error(`S3Proxy exited during startup (${exited.error?.message ?? `code ${exited.code}, signal ${exited.signal}`}); last lines of ${p.log}:\n${tail(p.log, 40, logStart)}`);
    }
    probe = await probeS3({ endpoint: info.endpoint, accessKey, secretKey });
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
    throw new Error(`${e.message}; last lines of ${p.log}:\n${tail(p.log, 40, logStart)}`);
  }
  const startMs = Date.now() - t0;
  onProgress(`S3Proxy: ready on ${info.endpoint} after ${(startMs / 1000).toFixed(1)} s`);
  return { ...info, startMs, reused: false, stop };
}

/** Stops the S3Proxy of `dataDir`: SIGTERM to its process group, then SIGKILL after `timeoutMs`. */
export async function stopS3({ dataDir, timeoutMs = 15_000, onProgress = noop } = {}) {
  if (!dataDir) throw new Error('stopS3: dataDir is required');
  const p = paths(dataDir);
  const pid = readPid(p.pid);
  if (pid === undefined || !isAlive(pid, p.conf)) {
    await fsp.rm(p.pid, { force: true });
    onProgress('S3Proxy: not running');
    return { stopped: false, pids: [] };
  }
  const t0 = Date.now();
  onProgress(`S3Proxy: stopping pid ${pid} (SIGTERM)`);
  // the JVM was spawned detached, so it leads its own process group
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
  while (isAlive(pid, p.conf)) {
    if (!killed && Date.now() - t0 > timeoutMs) {
      onProgress(`S3Proxy: still alive after ${timeoutMs} ms, SIGKILL`);
      signal('SIGKILL');
      killed = true;
    }
    if (Date.now() - t0 > timeoutMs + 10_000) throw new Error(`S3Proxy pid ${pid} survived SIGKILL`);
    await sleep(100);
  }
  await fsp.rm(p.pid, { force: true });
  const stopMs = Date.now() - t0;
  onProgress(`S3Proxy: stopped after ${(stopMs / 1000).toFixed(1)} s${killed ? ' (killed)' : ''}`);
  return { stopped: true, pids: [pid], killed, stopMs };
}

/**
 * Tells whether the S3Proxy of `dataDir` runs (`running`) and answers a signed ListBuckets (`answering`).
 * When running: also endpoint, port, pid, region, accessKey, secretKey, dataDir, logFile.
 */
export async function s3Status({ dataDir } = {}) {
  if (!dataDir) throw new Error('s3Status: dataDir is required');
  const p = paths(dataDir);
  const pid = readPid(p.pid);
  const state = readJson(p.state) ?? {};
  if (pid === undefined || state.pid !== pid || !isAlive(pid, p.conf)) {
    return { running: false, dataDir: p.dataDir, logFile: p.log };
  }
  const probe = state.endpoint ? await probeS3(state) : { ok: false, why: 'no endpoint in s3.json' };
  return { running: true, answering: probe.ok, ...(probe.ok ? {} : { why: probe.why }), ...state };
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

function parseArgs(argv) {
  const o = { cmd: argv[0], buckets: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
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
        if (!(o.timeout > 0)) throw new Error(`--timeout: not a number of seconds: ${v}`);
        break;
      }
      case '--json': o.json = true; break;
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
  const progress = (m) => process.stderr.write(`[s3] ${m}\n`);
  const out = (obj, text) => process.stdout.write(o.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  switch (o.cmd) {
    case 'start': {
      const s = await startS3({
        dataDir: o.data,
        port: o.port ?? 9000,
        buckets: o.buckets,
        ...(o.accessKey ? { accessKey: o.accessKey } : {}),
        ...(o.secretKey ? { secretKey: o.secretKey } : {}),
        mavenRepoLocal: o.mavenRepo,
        jar: o.jar,
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
      const r = await stopS3({ dataDir: o.data, ...(o.timeout ? { timeoutMs: o.timeout * 1000 } : {}), onProgress: progress });
      out(r, r.stopped ? `stopped (pid ${r.pids.join(', ')})` : 'not running');
      return 0;
    }
    case 'status': {
      const s = await s3Status({ dataDir: o.data });
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
    (e) => {
      process.stderr.write(`[s3] error: ${e.message}\n`);
      process.exit(1);
    },
  );
}
