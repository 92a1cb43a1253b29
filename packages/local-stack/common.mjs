// Helpers shared by the local services (flink.mjs, s3.mjs; kafka.mjs predates them and keeps its own):
// process liveness that survives pid reuse, pid/state files, free ports, log tails, and Maven-resolved
// classpaths cached next to the service's data.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const HOST = '127.0.0.1';
export const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.11.0';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const noop = () => {};

export function javaBin() {
  if (process.env.JAVA) return process.env.JAVA;
  if (process.env.JAVA_HOME) return path.join(process.env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

/** Whether `pid` runs and its command line contains `marker` (a reused pid is not our process; zombies are dead). */
export function isAlive(pid, marker) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  try {
    if (/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false;
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return true;
  }
}

export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, HOST, resolve);
  });
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

export function portInUse(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, HOST, () => srv.close(() => resolve(false)));
  });
}

/** The last `lines` lines of a file (from byte `fromByte` on). */
export function tail(file, lines = 40, fromByte = 0) {
  try {
    return fs.readFileSync(file).subarray(fromByte).toString('utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

/**
 * The runtime classpath of `pom` (':'-separated), resolved with Maven once and cached in `cacheFile` while the
 * pom is unchanged and every jar exists.
 */
export async function mavenClasspath({ pom, cacheFile, mavenRepoLocal, onProgress = noop, what = 'classpath' }) {
  const pomHash = createHash('sha256').update(fs.readFileSync(pom)).digest('hex');
  const cached = readJson(cacheFile);
  if (cached?.pomHash === pomHash && cached.classpath.split(':').every((jar) => fs.existsSync(jar))) return cached.classpath;
  onProgress(`resolving the ${what} from Maven Central (first run downloads the jars)`);
  const out = path.join(path.dirname(cacheFile), `.classpath-${process.pid}.txt`);
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  const args = ['-B', '-q', '-f', pom, `${DEPENDENCY_PLUGIN}:build-classpath`, `-Dmdep.outputFile=${out}`, '-Dmdep.includeScope=runtime'];
  if (mavenRepoLocal) args.push(`-Dmaven.repo.local=${mavenRepoLocal}`);
  let result;
  try {
    result = await run('mvn', args);
  } catch {
    throw new Error('Maven (mvn) is not installed or not on the PATH; install Maven 3.8+ (Debian: apt install maven) to run the local stack');
  }
  if (result.code !== 0) throw new Error(`mvn could not resolve the ${what} (exit ${result.code}):\n${result.out.slice(-3000)}`);
  const classpath = fs.readFileSync(out, 'utf8').trim();
  fs.rmSync(out, { force: true });
  fs.writeFileSync(cacheFile, JSON.stringify({ pomHash, classpath }));
  return classpath;
}

/** Sends SIGTERM to each pid's process group, waits, then SIGKILL; returns the pids that were running. */
export async function stopProcesses(pids, marker, timeoutMs) {
  const running = pids.filter((pid) => isAlive(pid, marker));
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (running.some((pid) => isAlive(pid, marker)) && Date.now() < deadline) await sleep(100);
  for (const pid of running.filter((p) => isAlive(p, marker))) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  return running;
}
