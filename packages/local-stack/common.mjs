// @ts-check
// Helpers shared by the local services (flink.mjs, kafka.mjs, s3.mjs, controller.mjs): process liveness that
// survives pid reuse, detached launches, pid/state files, free ports, log tails, and Maven-resolved classpaths
// cached next to the service's data.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const HOST = '127.0.0.1';
export const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.11.0';
/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** @param {...unknown} _args */
export const noop = (..._args) => {};

/** @typedef {(line: string) => void} Progress */

export function javaBin() {
  if (process.env.JAVA) return process.env.JAVA;
  if (process.env.JAVA_HOME) return path.join(process.env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

/**
 * Whether `pid` runs (not a zombie) and its command line contains every `marker`: a reused pid is not our process.
 * @param {number | undefined} pid
 * @param {string | string[]} markers
 */
export function isAlive(pid, markers) {
  if (!pid || !signalZero(pid)) return false;
  try {
    if (allThreadsExited(pid)) return false;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // An empty command line: the process is exiting (its memory is gone, its sockets may not be yet). It counts as
    // alive until it is a zombie, so that a port is free once its process is seen dead.
    if (cmdline === '') return true;
    return (Array.isArray(markers) ? markers : [markers]).every((marker) => cmdline.includes(marker));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/**
 * The kernel's start time of `pid` (clock ticks since boot, field 22 of /proc/<pid>/stat): with the pid it names one
 * process, for commands whose command line carries no marker of ours. Undefined when it does not run or is a zombie.
 * @param {number | undefined} pid
 */
export function processStartTime(pid) {
  if (!pid || !signalZero(pid)) return undefined;
  try {
    if (allThreadsExited(pid)) return undefined;
    return statFields(`/proc/${pid}/stat`)[19];
  } catch {
    return undefined;
  }
}

/**
 * The fields of a /proc stat file from field 3 (state) on.
 * @param {string} file
 */
function statFields(file) {
  const stat = fs.readFileSync(file, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * Whether every thread of `pid` has exited (zombie or dead). Not just the process's own state: a SIGKILLed JVM's
 * main thread is a zombie while its other threads still exit and hold its sockets open.
 * @param {number} pid
 */
function allThreadsExited(pid) {
  return fs.readdirSync(`/proc/${pid}/task`).every((tid) => {
    try {
      return /^[ZX]/.test(statFields(`/proc/${pid}/task/${tid}/stat`)[0] ?? 'X');
    } catch {
      return true; // the thread is gone
    }
  });
}

/** @param {number} pid */
function signalZero(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
}

/**
 * @param {string} file
 * @returns {any} the parsed JSON, or undefined when the file is missing or not JSON
 */
export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** @param {string} file */
export function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `n` distinct free TCP ports on 127.0.0.1 (listen on port 0 with all of them open at once, then close).
 * @param {number} n
 * @returns {Promise<number[]>}
 */
export async function freePorts(n) {
  /** @type {net.Server[]} */
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, HOST, () => resolve(undefined));
      });
      servers.push(srv);
    }
    return servers.map((s) => /** @type {net.AddressInfo} */ (s.address()).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export async function freePort() {
  const [port] = await freePorts(1);
  return /** @type {number} */ (port);
}

/** @param {number} port */
export function portInUse(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, HOST, () => srv.close(() => resolve(false)));
  });
}

/**
 * The last `lines` lines of a file (from byte `fromByte` on).
 * @param {string} file
 */
export function tail(file, lines = 40, fromByte = 0) {
  try {
    return fs.readFileSync(file).subarray(fromByte).toString('utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The size of `file` now (0 when missing): where this start's part of an appended log begins. @param {string} file */
export function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Runs a command to its end, stdout and stderr together in `out`.
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [options]
 * @returns {Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>}
 */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

/**
 * Starts `cmd` detached in its own process group (it outlives this process), stdout and stderr appended to
 * `logFile`. `exited()` tells whether it already ended while this process watches (and how).
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }} options
 * @returns {{ pid: number; exited: () => string | undefined }}
 */
export function spawnDetached(cmd, args, { logFile, env, cwd }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  /** @type {string | undefined} */
  let exit;
  child.on('exit', (code, signal) => (exit = signal ? `signal ${signal}` : `exit code ${code}`));
  child.on('error', (e) => (exit = `cannot run ${cmd}: ${e.message}`));
  child.unref();
  if (!child.pid) throw new Error(`cannot run ${cmd}`);
  return { pid: child.pid, exited: () => exit };
}

/**
 * The runtime classpath of `pom` (':'-separated), resolved with Maven once and cached in `cacheFile` while the
 * pom is unchanged and every jar exists.
 * @param {{ pom: string; cacheFile: string; mavenRepoLocal?: string; onProgress?: Progress; what?: string }} options
 * @returns {Promise<string>}
 */
export async function mavenClasspath({ pom, cacheFile, mavenRepoLocal, onProgress = noop, what = 'classpath' }) {
  const pomHash = createHash('sha256').update(fs.readFileSync(pom)).digest('hex');
  const cached = readJson(cacheFile);
  if (cached?.pomHash === pomHash && String(cached.classpath).split(':').every((jar) => fs.existsSync(jar))) return cached.classpath;
  onProgress(`resolving the ${what} from Maven Central (first run downloads the jars)`);
  const out = path.join(path.dirname(cacheFile), `.classpath-${process.pid}.txt`);
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  const args = ['-B', '-q', '-f', pom, `${DEPENDENCY_PLUGIN}:build-classpath`, `-Dmdep.outputFile=${out}`, '-Dmdep.includeScope=runtime'];
  if (mavenRepoLocal) args.push(`-Dmaven.repo.local=${path.resolve(mavenRepoLocal)}`);
  const mvn = process.env.MVN || 'mvn';
  let result;
  try {
    result = await run(mvn, args);
  } catch {
    throw new Error('Maven (mvn) is not installed or not on the PATH; install Maven 3.8+ (Debian: apt install maven) to run the local stack');
  }
  if (result.code !== 0 || !fs.existsSync(out)) {
    fs.rmSync(out, { force: true });
    // Maven 3.8 prints bare ESC[0m sequences even with -B -q
    throw new Error(`mvn could not resolve the ${what} (exit ${result.code}):\n${result.out.replace(/\x1b\[[0-9;]*m/g, '').slice(-3000)}`);
  }
  const classpath = fs.readFileSync(out, 'utf8').trim();
  fs.rmSync(out, { force: true });
  fs.writeFileSync(cacheFile, JSON.stringify({ pomHash, classpath }));
  return classpath;
}

/**
 * A signal to the process group `pid` leads (every service is started detached), else to `pid` alone.
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
export function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/**
 * Sends SIGTERM to each running pid's process group, waits up to `timeoutMs`, then SIGKILL; returns the pids that
 * were running and whether any had to be killed.
 * @param {Array<number | undefined>} pids
 * @param {(pid: number) => boolean} isRunning  whether the pid is still the process we started
 * @param {number} timeoutMs
 */
export async function stopProcesses(pids, isRunning, timeoutMs) {
  const running = /** @type {number[]} */ (pids.filter((pid) => pid !== undefined && isRunning(pid)));
  for (const pid of running) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (running.some(isRunning) && Date.now() < deadline) await sleep(100);
  const stubborn = running.filter(isRunning);
  for (const pid of stubborn) signalGroup(pid, 'SIGKILL');
  while (running.some(isRunning) && Date.now() < deadline + 10_000) await sleep(100);
  const survivors = running.filter(isRunning);
  if (survivors.length > 0) throw new Error(`pid ${survivors.join(', ')} survived SIGKILL`);
  return { pids: running, killed: stubborn.length > 0 };
}
