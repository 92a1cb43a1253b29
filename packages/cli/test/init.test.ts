import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { listTemplates } from '../src/commands/init.js';
import { REPO_ROOT, flinkfn } from './helpers.js';

const PNPM = path.join(REPO_ROOT, '.tools', 'node_modules', '.bin', 'pnpm');
const pnpm = existsSync(PNPM) ? PNPM : 'pnpm';

const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }).version;
const init = suite('flinkfn init');
const templates = listTemplates();

init('offers at least the four documented templates', () => {
  const names = templates.map((t) => t.name);
  for (const name of ['tumbling-count', 'sliding-average', 'session-windows', 'stateless-filter']) {
    assert.ok(names.includes(name), `missing template ${name}; have ${names.join(', ')}`);
  }
});

for (const template of templates) {
  init(`a project made from ${template.name} installs, type-checks and passes its own tests`, async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-init-'));
    const dir = path.join(parent, `My ${template.name} Fn`);
    try {
      const created = flinkfn(['init', dir, '--template', template.name, '--json']);
      assert.is(created.code, 0, created.stderr);
      const result = JSON.parse(created.stdout) as { name: string; files: string[] };
      assert.is(result.name, `my-${template.name}-fn`);
      for (const file of ['package.json', 'flinkfn.config.json', 'src/handler.ts', 'data/events.jsonl', '.gitignore', '.github/workflows/flinkfn-deploy.yml']) {
        assert.ok(result.files.includes(file), `${file} missing from ${result.files.join(', ')}`);
      }
      assert.ok(result.files.some((f) => f.startsWith('test/')), 'has tests');
      assert.match(readFileSync(path.join(dir, '.gitignore'), 'utf8'), /^\.dev\.vars$/m, 'secrets for flinkfn dev stay out of git');
      const handler = readFileSync(path.join(dir, 'src', 'handler.ts'), 'utf8');
      assert.not.match(handler, /\{\{name\}\}/, 'placeholders replaced');
      // The project asks the registry for this version of flinkfn's packages (the registry path itself is
      // tested in packages/create-flinkfn); here they are linked to this checkout's, to test the template fast.
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
      const ours = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }).filter(([name]) => name === 'flinkfn' || name.startsWith('@flinkfn/'));
      assert.equal(ours.map(([name]) => name).sort(), ['@flinkfn/sdk', '@flinkfn/testing', 'flinkfn']);
      for (const [name, range] of ours) assert.is(range, `^${VERSION}`, name);
      for (const field of ['dependencies', 'devDependencies']) {
        for (const name of Object.keys(manifest[field] ?? {})) {
          if (name === 'flinkfn' || name.startsWith('@flinkfn/')) manifest[field]![name] = `link:${path.join(REPO_ROOT, 'packages', name === 'flinkfn' ? 'cli' : name.slice('@flinkfn/'.length))}`;
        }
      }
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
      // The config file is valid and leaves the target to the environment (no defaultTarget), so CI's
      // FLINKFN_FLINK_URL picks the remote target; its $schema resolves once installed (tested in create-flinkfn).
      const config = JSON.parse(readFileSync(path.join(dir, 'flinkfn.config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(config, { $schema: './node_modules/flinkfn/schema/config.schema.json', targets: { local: { kind: 'local' } } });
      const { loadTarget } = await import('@flinkfn/deploy');
      assert.is((await loadTarget({ cwd: dir, env: {} })).kind, 'local');
      assert.is((await loadTarget({ cwd: dir, env: { FLINKFN_FLINK_URL: 'http://f:8081', FLINKFN_KAFKA_BROKERS: 'k:1', FLINKFN_S3_BUCKET: 'bkt', FLINKFN_SIDECAR_COMMAND: 'n' } })).name, 'env');

      const steps: Array<[string, string[]]> = [
        ['install', ['install', '--prefer-offline', '--reporter=silent']],
        ['test', ['run', 'test']],
        ['typecheck', ['run', 'typecheck']],
        ['build', ['run', 'build']],
      ];
      for (const [label, args] of steps) {
        const run = spawnSync(pnpm, args, { cwd: dir, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: 'true' } });
        assert.is(run.status, 0, `${label} failed in ${dir}:\n${run.stdout}\n${run.stderr}`);
      }
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
}

init('every published package has the version init asks for (they are released together)', () => {
  const published = readdirSync(path.join(REPO_ROOT, 'packages'))
    .map((dir) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean })
    .filter((manifest) => !manifest.private);
  assert.ok(published.some((m) => m.name === 'create-flinkfn') && published.some((m) => m.name === '@flinkfn/sdk'));
  for (const manifest of published) assert.is(manifest.version, VERSION, manifest.name);
});

init('refuses to write into a directory that is not empty, unless --force', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-init-'));
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    const refused = flinkfn(['init', dir, '--template', 'tumbling-count']);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /is not empty/);
    assert.match(refused.stderr, /--force/);
    const forced = flinkfn(['init', dir, '--template', 'tumbling-count', '--force']);
    assert.is(forced.code, 0, forced.stderr);
    assert.is(readFileSync(path.join(dir, 'keep.txt'), 'utf8'), 'mine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

init('an unknown template is a usage error that lists the choices', () => {
  const run = flinkfn(['init', path.join(os.tmpdir(), 'never-created'), '--template', 'nope']);
  assert.is(run.code, 1);
  assert.match(run.stderr, /Invalid values/);
  assert.match(run.stderr, /tumbling-count/);
});

init.run();
