/**
 * A new user's path, from a real registry: flinkfn's packages published to a local Verdaccio, then, in an
 * empty directory outside the checkout with only that registry configured, `npm create flinkfn`, `npm
 * install`, `npm test`, `flinkfn build`, `flinkfn dev` and `flinkfn deploy` to a real local stack (Flink,
 * Kafka, S3Proxy), which runs the runtime jar and the sidecar that came with the installed packages.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stackStatus } from '@flinkfn/local-stack/stack.mjs';
import { useStack } from '../../deploy/test/support/stack.js';
import { leftovers } from '../../deploy/test/support/inspect.js';
import { FlinkClient } from '../../deploy/src/index.js';
import { REPO, useRegistry } from './support/registry.js';
import { ok, useUser } from './support/user.js';

const test = suite('flinkfn from a registry');
const registry = useRegistry(test);
const stack = useStack(test);

const user = useUser(test, registry);

test('npm create flinkfn, then install, test, build, dev and deploy with only the registry configured', async () => {
  const { home, run } = user();
  assert.match(registry().published, /\+ @flinkfn\/deploy@/);
  assert.match(registry().published, /\+ create-flinkfn@/);

  ok(run('npm', ['create', 'flinkfn@latest', 'my-fn'], home), 'npm create flinkfn@latest my-fn');
  const project = path.join(home, 'my-fn');
  const manifest = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  assert.equal(manifest.dependencies['@flinkfn/sdk'], '^0.1.0');
  assert.equal(manifest.devDependencies['flinkfn'], '^0.1.0');
  assert.equal(manifest.devDependencies['@flinkfn/testing'], '^0.1.0');
  assert.ok(existsSync(path.join(project, '.github', 'workflows', 'flinkfn-deploy.yml')));

  ok(run('npm', ['install'], project), 'npm install');
  // Everything came from the registry: real folders in node_modules, no link into the checkout.
  const lock = readFileSync(path.join(project, 'package-lock.json'), 'utf8');
  assert.not.ok(lock.includes(REPO), 'package-lock.json names no path of the checkout');
  assert.not.match(lock, /"(link|file):/);
  for (const name of ['flinkfn', '@flinkfn/sdk', '@flinkfn/deploy', '@flinkfn/sidecar', '@flinkfn/local-stack']) {
    const dir = path.join(project, 'node_modules', name);
    assert.ok(existsSync(path.join(dir, 'package.json')) && !lstatSync(dir).isSymbolicLink(), `${name} installed as a package`);
    assert.ok(!realpathSync(dir).startsWith(REPO));
  }
  assert.match(lock, new RegExp(`"resolved": "${registry().url.replace(/[.]/g, '\\.')}@flinkfn/deploy/-/deploy-0\\.1\\.0\\.tgz"`));

  // The config file init wrote names its schema by a path that exists now, holding @flinkfn/deploy's schema.
  const config = JSON.parse(readFileSync(path.join(project, 'flinkfn.config.json'), 'utf8')) as { $schema: string };
  const schema = path.resolve(project, config.$schema);
  assert.ok(existsSync(schema), `${config.$schema} resolves in the project`);
  assert.is(readFileSync(schema, 'utf8'), readFileSync(path.join(REPO, 'packages', 'deploy', 'schema', 'config.schema.json'), 'utf8'));

  ok(run('npm', ['test'], project), 'npm test');
  ok(run('npm', ['run', 'typecheck'], project), 'npm run typecheck');
  const build = ok(run('npx', ['flinkfn', 'build', '--json'], project), 'npx flinkfn build');
  const built = JSON.parse(build.stdout) as { id: string; file: string };
  assert.match(built.id, /^[0-9a-f]{64}$/);
  assert.ok(existsSync(built.file), `the artifact ${built.file} exists`);

  const dev = ok(run('npx', ['flinkfn', 'dev', '--input', 'data/events.jsonl', '--json'], project), 'npx flinkfn dev');
  const lines = dev.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string });
  assert.ok(lines.some((line) => line.type === 'output'), `dev printed window results: ${dev.stdout}`);

  // Deploy to a real local stack; the jar and the sidecar are the installed packages' own.
  const { env: testEnv, target } = stack();
  // A user's shell points at the stack, and runs it with its controller (the command tests' stacks run without).
  const { FLINKFN_LOCAL_CONTROLLER: _withoutController, ...stackEnv } = testEnv;
  const deploy = ok(run('npx', ['flinkfn', 'deploy', '--json', '--yes'], project, stackEnv), 'npx flinkfn deploy');
  const result = JSON.parse(deploy.stdout.trim().split('\n').at(-1)!) as { jobId: string; name: string };
  assert.match(result.jobId, /^[0-9a-f]{32}$/);
  const flink = new FlinkClient(target.flinkUrl);
  const job = (await flink.jobs()).find((j) => j.jid === result.jobId);
  assert.is(job?.state, 'RUNNING', `job ${result.jobId} runs`);
  const packagedJar = path.join(project, 'node_modules', '@flinkfn', 'deploy', 'runtime', 'flinkfn-runtime.jar');
  const sha = createHash('sha256').update(readFileSync(packagedJar)).digest('hex');
  const jars = (await (await fetch(`${target.flinkUrl}/jars`)).json()) as { files: Array<{ name: string }> };
  assert.ok(jars.files.some((jar) => jar.name === `flinkfn-runtime-${sha.slice(0, 16)}.jar`), `the cluster runs the packaged jar: ${JSON.stringify(jars.files)}`);

  // The stack now supervises a controller, and it is the installed CLI's (found from @flinkfn/deploy).
  const { root } = stack();
  const state = JSON.parse(readFileSync(path.join(root, 'stack.json'), 'utf8')) as { controller?: { command: string[] } };
  assert.equal(state.controller?.command.slice(1), [path.join(project, 'node_modules', 'flinkfn', 'bin', 'flinkfn.js'), 'controller', '--target', 'local', '--json']);
  assert.ok((await stackStatus({ root })).services.controller?.running, 'the controller runs');

  const status = ok(run('npx', ['flinkfn', 'status', result.name, '--json'], project, stackEnv), 'npx flinkfn status');
  assert.match(status.stdout, /RUNNING/);
  ok(run('npx', ['flinkfn', 'destroy', result.name, '--yes', '--json'], project, stackEnv), 'npx flinkfn destroy');
  assert.equal(await leftovers(target, result.name, [], { scoped: true }), []);
});

test('npx flinkfn init, outside any project, fetches the CLI from the registry and writes semver ranges', async () => {
  const { home, run } = user();
  const created = ok(run('npx', ['flinkfn', 'init', 'other-fn', '--template', 'stateless-filter', '--json'], home), 'npx flinkfn init');
  const { name } = JSON.parse(created.stdout) as { name: string };
  assert.is(name, 'other-fn');
  const manifest = JSON.parse(readFileSync(path.join(home, 'other-fn', 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  assert.is(manifest.devDependencies['flinkfn'], '^0.1.0');
});

test.run();
