/**
 * Where the parts of this flinkfn installation are: the runtime jar every deployment runs, the sidecar
 * the TaskManagers start, the local-stack scripts. Paths are relative to this package's dist/.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeployError } from './errors.js';

export const INSTALL_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const RUNTIME_MODULE = path.join(INSTALL_ROOT, 'packages', 'runtime-flink');
export const RUNTIME_ENTRY_CLASS = 'dev.flinkfn.runtime.FlinkfnRuntimeJob';

/** The Node sidecar as a TaskManager on this machine starts it. */
export function localSidecarCommand(): string {
  const main = path.join(INSTALL_ROOT, 'packages', 'sidecar', 'bin', 'flinkfn-sidecar.js');
  return `${process.execPath} ${main}`;
}

/**
 * The controller the local stack supervises: this installation's `flinkfn controller`, on the local target
 * (the stack passes FLINKFN_LOCAL_ROOT and starts it in the stack's folder, away from any project config).
 * FLINKFN_LOCAL_CONTROLLER=0 runs the stack without one (null: stop it); deployments then end only by
 * commands and `flinkfn gc`, which tests of those commands rely on.
 */
export function localController(env: NodeJS.ProcessEnv = process.env): { command: string[] } | null {
  if (env.FLINKFN_LOCAL_CONTROLLER === '0') return null;
  return { command: [process.execPath, path.join(INSTALL_ROOT, 'packages', 'cli', 'bin', 'flinkfn.js'), 'controller', '--target', 'local', '--json'] };
}

export interface RuntimeJar {
  file: string;
  sha256: string;
  /** The name it has on a cluster: the hash makes "uploaded once, found again" work. */
  clusterName: string;
}

/**
 * The shaded runtime jar (FLINKFN_RUNTIME_JAR, or the one Maven builds in packages/runtime-flink),
 * built on first use when this is a source checkout.
 */
export async function runtimeJar(onProgress: (line: string) => void = () => {}): Promise<RuntimeJar> {
  const file = process.env.FLINKFN_RUNTIME_JAR ?? path.join(RUNTIME_MODULE, 'target', 'flinkfn-runtime.jar');
  if (!existsSync(file)) {
    if (process.env.FLINKFN_RUNTIME_JAR || !existsSync(path.join(RUNTIME_MODULE, 'pom.xml'))) {
      throw new DeployError(`the runtime jar ${file} does not exist`, { step: 'runtime-jar', hint: 'Set FLINKFN_RUNTIME_JAR to the flinkfn-runtime.jar of this flinkfn version.' });
    }
    onProgress('building the runtime jar with Maven (first use, about 30 s)');
    await buildRuntimeJar();
  }
  // Hash the 21 MB jar once per process (a deploy that rolls back asks again), again only if the file changed.
  const { mtimeMs, size } = await stat(file);
  if (hashed?.file !== file || hashed.mtimeMs !== mtimeMs || hashed.size !== size) {
    hashed = { file, mtimeMs, size, sha256: await hashFile(file) };
  }
  return { file, sha256: hashed.sha256, clusterName: `flinkfn-runtime-${hashed.sha256.slice(0, 16)}.jar` };
}

let hashed: { file: string; mtimeMs: number; size: number; sha256: string } | undefined;

function buildRuntimeJar(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', ['-q', '-B', '-f', path.join(RUNTIME_MODULE, 'pom.xml'), 'package', '-DskipTests'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) =>
      reject(new DeployError(`cannot run Maven to build the runtime jar (${error.message})`, { step: 'runtime-jar', hint: 'Install Maven 3.8+ and Java 17 (Debian: apt install maven openjdk-17-jdk-headless).' })),
    );
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new DeployError(`building the runtime jar failed (mvn exit ${code}):\n${output.slice(-3000)}`, { step: 'runtime-jar' })),
    );
  });
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
