/**
 * Where the parts of this flinkfn installation are: the runtime jar every deployment runs, the sidecar
 * the TaskManagers start, the CLI the local stack's controller runs. Two layouts work:
 * - a source checkout (this file at packages/deploy/dist/ of the repository): the jar is the one Maven
 *   builds in packages/runtime-flink (built on first use), the CLI is packages/cli;
 * - packages installed from a registry: the jar ships in this package (runtime/, copied in by prepack),
 *   the sidecar and the CLI are found by Node's module resolution.
 * FLINKFN_RUNTIME_JAR overrides the jar in both.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeployError } from './errors.js';

/** This package's folder (the one with package.json), in either layout. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The repository this runs from, or null when installed from a registry. */
export const SOURCE_CHECKOUT: string | null = checkoutRoot(path.resolve(PACKAGE_ROOT, '..', '..'));
/** The runtime jar inside the published package (files: runtime/). */
export const PACKAGED_RUNTIME_JAR = path.join(PACKAGE_ROOT, 'runtime', 'flinkfn-runtime.jar');
export const RUNTIME_ENTRY_CLASS = 'dev.flinkfn.runtime.FlinkfnRuntimeJob';

const require = createRequire(import.meta.url);

function checkoutRoot(candidate: string): string | null {
  return existsSync(path.join(candidate, 'pnpm-workspace.yaml')) && existsSync(path.join(candidate, 'packages', 'runtime-flink', 'pom.xml')) ? candidate : null;
}

/** The file a package's `bin` entry names, found by module resolution from this package. */
function packageBin(packageName: string, bin: string): string | null {
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${packageName}/package.json`);
  } catch {
    return null;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: string | Record<string, string> };
  const entry = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[bin];
  return entry ? path.resolve(path.dirname(manifestPath), entry) : null;
}

/** The Node sidecar as a TaskManager on this machine starts it (@flinkfn/sidecar is a dependency). */
export function localSidecarCommand(): string {
  const main = packageBin('@flinkfn/sidecar', 'flinkfn-sidecar');
  if (!main) throw new DeployError('the package @flinkfn/sidecar is not installed', { step: 'local-stack', hint: 'Reinstall flinkfn (npm install flinkfn); @flinkfn/deploy depends on @flinkfn/sidecar.' });
  return `${process.execPath} ${main}`;
}

/**
 * The controller the local stack supervises: this installation's `flinkfn controller`, on the local target
 * (the stack passes FLINKFN_LOCAL_ROOT and starts it in the stack's folder, away from any project config).
 * The CLI depends on this package, not the other way round, so an installed CLI is found where npm and
 * pnpm put it next to this package (hoisted), and a checkout's in packages/cli.
 * FLINKFN_LOCAL_CONTROLLER=0 runs the stack without one (null: stop it); deployments then end only by
 * commands and `flinkfn gc`, which tests of those commands rely on.
 */
export function localController(env: NodeJS.ProcessEnv = process.env): { command: string[] } | null {
  if (env.FLINKFN_LOCAL_CONTROLLER === '0') return null;
  const cli = (SOURCE_CHECKOUT && path.join(SOURCE_CHECKOUT, 'packages', 'cli', 'bin', 'flinkfn.js')) || packageBin('flinkfn', 'flinkfn');
  if (!cli) throw new DeployError('the flinkfn command line is not installed next to @flinkfn/deploy', { step: 'local-stack', hint: 'Install it: npm install --save-dev flinkfn.' });
  return { command: [process.execPath, cli, 'controller', '--target', 'local', '--json'] };
}

export interface RuntimeJar {
  file: string;
  sha256: string;
  /** The name it has on a cluster: the hash makes "uploaded once, found again" work. */
  clusterName: string;
}

/**
 * The shaded runtime jar: FLINKFN_RUNTIME_JAR; in a source checkout the one Maven builds in
 * packages/runtime-flink (built on first use); otherwise the one this package was published with.
 */
export async function runtimeJar(onProgress: (line: string) => void = () => {}): Promise<RuntimeJar> {
  const file = runtimeJarFile();
  const checkoutJar = !process.env.FLINKFN_RUNTIME_JAR && SOURCE_CHECKOUT !== null;
  if (!existsSync(file) || (checkoutJar && (await sourcesNewerThan(path.join(SOURCE_CHECKOUT!, 'packages', 'runtime-flink'), file)))) {
    if (process.env.FLINKFN_RUNTIME_JAR || !SOURCE_CHECKOUT) {
      throw new DeployError(`the runtime jar ${file} does not exist`, {
        step: 'runtime-jar',
        hint: process.env.FLINKFN_RUNTIME_JAR
          ? 'Set FLINKFN_RUNTIME_JAR to the flinkfn-runtime.jar of this flinkfn version, or unset it to use the one @flinkfn/deploy ships.'
          : 'This installation of @flinkfn/deploy lacks its runtime jar: reinstall it, or set FLINKFN_RUNTIME_JAR to the flinkfn-runtime.jar of this version.',
      });
    }
    onProgress('building the runtime jar with Maven (first use or changed sources, about 30 s)');
    await buildRuntimeJar(SOURCE_CHECKOUT!);
  }
  // Hash the 21 MB jar once per process (a deploy that rolls back asks again), again only if the file changed.
  const { mtimeMs, size } = await stat(file);
  if (hashed?.file !== file || hashed.mtimeMs !== mtimeMs || hashed.size !== size) {
    hashed = { file, mtimeMs, size, sha256: await hashFile(file) };
  }
  return { file, sha256: hashed.sha256, clusterName: `flinkfn-runtime-${hashed.sha256.slice(0, 16)}.jar` };
}

/** Where the runtime jar is (or will be built), without checking that it exists. */
export function runtimeJarFile(): string {
  if (process.env.FLINKFN_RUNTIME_JAR) return path.resolve(process.env.FLINKFN_RUNTIME_JAR);
  if (SOURCE_CHECKOUT) return path.join(SOURCE_CHECKOUT, 'packages', 'runtime-flink', 'target', 'flinkfn-runtime.jar');
  return PACKAGED_RUNTIME_JAR;
}

let hashed: { file: string; mtimeMs: number; size: number; sha256: string } | undefined;

/**
 * In a checkout, whether the runtime's pom.xml or a file under its src/main is newer than the jar: a jar built
 * before a pull or a merge would otherwise run the old job (and refuse manifests the new SDK writes).
 */
async function sourcesNewerThan(moduleDir: string, jar: string): Promise<boolean> {
  if (!existsSync(jar)) return true;
  const built = (await stat(jar)).mtimeMs;
  const newer = async (file: string): Promise<boolean> => {
    const info = await stat(file).catch(() => null);
    if (!info) return false;
    if (!info.isDirectory()) return info.mtimeMs > built;
    for (const entry of await readdir(file)) if (await newer(path.join(file, entry))) return true;
    return false;
  };
  return (await newer(path.join(moduleDir, 'pom.xml'))) || newer(path.join(moduleDir, 'src', 'main'));
}

function buildRuntimeJar(checkout: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', ['-q', '-B', '-f', path.join(checkout, 'packages', 'runtime-flink', 'pom.xml'), 'package', '-DskipTests'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
