import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flinkfn, project } from './helpers.js';

const dev = suite('flinkfn dev: settings and secrets');

const source = [
  "import { createHash } from 'node:crypto';",
  "import { defineFunction } from '@flinkfn/sdk';",
  'export default defineFunction({',
  "  name: 'greeter',",
  "  source: { topic: 'names', format: 'string' },",
  "  sinks: { out: { topic: 'greetings' } },",
  "  settings: { greeting: { default: 'hello' }, punctuation: {}, apiToken: { secret: true } },",
  '  handle: (name: string, ctx) => ({',
  '    text: `${ctx.settings.greeting} ${name}${ctx.settings.punctuation}`,',
  "    token: createHash('sha256').update(ctx.settings.apiToken).digest('hex').slice(0, 12),",
  '  }),',
  '});',
  '',
].join('\n');
const SECRET = 's3cr3t-from-env';
const digest = (text: string) => import('node:crypto').then(({ createHash }) => createHash('sha256').update(text).digest('hex').slice(0, 12));
const env = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const base = { ...process.env };
  for (const key of Object.keys(base)) if (key.startsWith('FLINKFN_SECRET_')) delete base[key];
  return { ...base, ...extra };
};

dev('--set gives plain settings and FLINKFN_SECRET_<NAME> the secret; defaults fill the rest', async () => {
  const { dir, cleanup } = project({ 'src/handler.ts': source });
  try {
    const run = flinkfn(['dev', '--root', dir, '--input', '-', '--json', '--set', 'punctuation=!', '--set', 'greeting=hi=there'], {
      input: 'Ada\n',
      env: env({ FLINKFN_SECRET_API_TOKEN: SECRET }),
    });
    assert.is(run.code, 0, run.stderr);
    const outputs = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; value?: unknown }).filter((l) => l.type === 'output');
    assert.equal(outputs.map((o) => o.value), [{ text: 'hi=there Ada!', token: await digest(SECRET) }]);
    assert.not.match(run.stdout + run.stderr, new RegExp(SECRET));
  } finally {
    cleanup();
  }
});

dev('.dev.vars holds settings and secrets; --set wins over it, it wins over the environment', async () => {
  const { dir, cleanup } = project({ 'src/handler.ts': source });
  try {
    writeFileSync(path.join(dir, '.dev.vars'), `# local values\npunctuation=?\napiToken="from-file"\ngreeting=hey\n`);
    const run = flinkfn(['dev', '--root', dir, '--input', '-', '--json', '--set', 'greeting=yo'], {
      input: 'Bo\n',
      env: env({ FLINKFN_SECRET_API_TOKEN: SECRET }),
    });
    assert.is(run.code, 0, run.stderr);
    const outputs = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; value?: unknown }).filter((l) => l.type === 'output');
    assert.equal(outputs.map((o) => o.value), [{ text: 'yo Bo?', token: await digest('from-file') }]);
  } finally {
    cleanup();
  }
});

dev('a missing value, a typo and a secret on the command line are errors that say what to do', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': source });
  try {
    const missing = flinkfn(['dev', '--root', dir, '--input', '-', '--set', 'punctuation=!'], { input: 'Ada\n', env: env({}) });
    assert.is(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /error: no value for the setting 'apiToken' \(secret\)/);
    assert.match(missing.stderr, /hint: add apiToken=<value> to \.dev\.vars or export FLINKFN_SECRET_API_TOKEN/);

    const typo = flinkfn(['dev', '--root', dir, '--input', '-', '--set', 'greting=x'], { input: 'Ada\n', env: env({ FLINKFN_SECRET_API_TOKEN: SECRET }) });
    assert.is(typo.code, 1, typo.stderr);
    assert.match(typo.stderr, /--set: greeter declares no setting 'greting'/);
    assert.match(typo.stderr, /Did you mean 'greeting'\?/);

    const secret = flinkfn(['dev', '--root', dir, '--input', '-', '--set', 'apiToken=oops-on-cli'], { input: 'Ada\n', env: env({}) });
    assert.is(secret.code, 1, secret.stderr);
    assert.match(secret.stderr, /'apiToken' is a secret/);
    assert.match(secret.stderr, /Put it in \.dev\.vars/);
  } finally {
    cleanup();
  }
});

dev.run();
