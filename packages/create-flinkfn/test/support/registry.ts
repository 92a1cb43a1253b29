/**
 * A real npm registry on loopback for the tests of what a user installs: Verdaccio (a devDependency of this
 * package, not a global install) with flinkfn's packages published to it by `pnpm -r publish`, and every
 * other package proxied to the registry npm is configured with on this machine (read at run time, so no
 * registry host is written into the repository). Started once for all suites that use it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'uvu';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const PACKAGE_ROOT = path.resolve(REPO, 'packages', 'create-flinkfn');
const VERDACCIO = path.join(PACKAGE_ROOT, 'node_modules', '.bin', 'verdaccio');
const PNPM = existsSync(path.join(REPO, '.tools', 'node_modules', '.bin', 'pnpm')) ? path.join(REPO, '.tools', 'node_modules', '.bin', 'pnpm') : 'pnpm';

/** Packages published from the workspace; none of them is looked up on the upstream registry. */
const OWN_PACKAGES = ['@flinkfn/*', 'flinkfn', 'create-flinkfn'];

export interface LocalRegistry {
  url: string;
  /** npmrc with the registry and the token line npm and pnpm need to publish (Verdaccio takes any token). */
  npmrc: string;
  /** What `pnpm -r publish` printed. */
  published: string;
}

let users = 0;
let started: Promise<LocalRegistry & { root: string; server: ChildProcess }> | undefined;

export function useRegistry(test: Test): () => LocalRegistry {
  users++;
  let registry: LocalRegistry | undefined;
  test.before(async () => {
    started ??= start();
    registry = await started;
  });
  test.after(async () => {
    users--;
    if (users === 0 && started) {
      const { server, root } = await started;
      await stop(server);
      await rm(root, { recursive: true, force: true });
    }
  });
  return () => {
    if (!registry) throw new Error('the registry is not started yet');
    return registry;
  };
}

/** The environment of this test process minus npm/pnpm settings and anything that points into the checkout. */
export function outsideEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|FLINKFN_|INIT_CWD|NODE_OPTIONS|NODE_PATH)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '').split(path.delimiter).filter((entry) => entry && !path.resolve(entry).startsWith(REPO)).join(path.delimiter);
  return { ...env, ...extra };
}

async function start(): Promise<LocalRegistry & { root: string; server: ChildProcess }> {
  const upstream = upstreamRegistry();
  const root = await mkdtemp(path.join(tmpdir(), 'flinkfn-registry-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = path.join(root, 'config.yaml');
  await mkdir(path.join(root, 'storage'));
  await writeFile(
    config,
    [
      `storage: ${JSON.stringify(path.join(root, 'storage'))}`,
      'uplinks:',
      '  upstream:',
      `    url: ${JSON.stringify(upstream)}`,
      '    timeout: 120s',
      'packages:',
      ...OWN_PACKAGES.flatMap((name) => [`  '${name}':`, '    access: $all', '    publish: $anonymous']),
      "  '**':",
      '    access: $all',
      '    proxy: upstream',
      // @flinkfn/deploy carries the 21 MB runtime jar.
      'max_body_size: 200mb',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const npmrc = path.join(root, 'npmrc');
  await writeFile(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=anonymous\n`);
  const server = spawn(VERDACCIO, ['--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  await waitFor(`${url}-/ping`, server, () => log);

  // What a release does: build, then publish every non-private workspace package (prepack adds the runtime jar
  // and the templates; workspace: ranges become versions).
  const build = spawnSync(PNPM, ['run', '--silent', 'build'], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}\n${build.stderr}`);
  const publish = spawnSync(PNPM, ['-r', 'publish', '--registry', url, '--no-git-checks'], {
    cwd: REPO,
    encoding: 'utf8',
    env: outsideEnv({ npm_config_userconfig: npmrc }),
    timeout: 600_000,
  });
  if (publish.status !== 0) throw new Error(`pnpm -r publish failed:\n${publish.stdout}\n${publish.stderr}\nverdaccio:\n${log}`);
  return { url, npmrc, published: publish.stdout, root, server };
}

/** The registry npm uses on this machine, asked without any of this process's npm settings. */
function upstreamRegistry(): string {
  const env = outsideEnv({});
  const result = spawnSync('npm', ['config', 'get', 'registry'], { cwd: tmpdir(), env, encoding: 'utf8' });
  const registry = result.stdout.trim();
  if (result.status !== 0 || !/^https?:\/\//.test(registry)) throw new Error(`npm config get registry gave ${JSON.stringify(registry)}: ${result.stderr}`);
  return registry;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`verdaccio exited (${server.exitCode}):\n${log()}`);
    const ok = await fetch(url).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`verdaccio did not answer ${url} within 60 s:\n${log()}`);
}

function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.once('exit', () => resolve());
    server.kill('SIGTERM');
  });
}
