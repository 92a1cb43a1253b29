import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineFunction, eventTime, isSettingsError, tumbling } from '@flinkfn/sdk';
import { harness, harnessFromEntry } from '../src/index.js';

const settings = suite('settings in the harness');

interface View { page: string; ts: number }

const views = defineFunction({
  name: 'views',
  source: { topic: 'views' },
  sinks: { counts: { topic: 'view-counts' } },
  settings: { label: { default: 'views' }, apiToken: { secret: true } },
  handle: (view: View, ctx) => ({ ...view, tokenLength: ctx.settings.apiToken.length }),
  key: (view: View) => view.page,
  time: eventTime({ timestamp: (view: View) => view.ts }),
  window: tumbling('1m'),
  aggregate: {
    create: () => 0,
    add: (n: number) => n + 1,
    result: (n, { key, settings: s }) => ({ page: key, [s.label]: n }),
  },
});

settings('values given to the harness reach handle and result; defaults fill the rest', () => {
  const h = harness(views, { settings: { apiToken: 'abc' } });
  h.push({ page: '/', ts: 1 }, { page: '/', ts: 2 }).finish();
  assert.equal(h.outputs(), [{ page: '/', views: 2 }]);
  const relabelled = harness(views, { settings: { apiToken: 'abc', label: 'hits' } });
  relabelled.push({ page: '/a', ts: 1 }).finish();
  assert.equal(relabelled.outputs(), [{ page: '/a', hits: 1 }]);
});

settings('a missing required setting or an undeclared name throws a SettingsError that says how to pass it', () => {
  try {
    harness(views);
    assert.unreachable('ran without apiToken');
  } catch (error) {
    assert.ok(isSettingsError(error), String(error));
    assert.match(error.message, /no value for the setting 'apiToken' \(secret\)/);
    assert.is(error.hint, "Pass it to the harness: harness(fn, { settings: { apiToken: '...' } }).");
  }
  try {
    // @ts-expect-error -- 'lable' is not a declared setting
    harness(views, { settings: { apiToken: 'abc', lable: 'x' } });
    assert.unreachable('accepted lable');
  } catch (error) {
    assert.ok(isSettingsError(error));
    assert.match(error.hint, /Did you mean 'label'\?/);
  }
});

settings('harnessFromEntry gives the settings to the built bundle', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'flinkfn-settings-'));
  try {
    mkdirSync(path.join(root, 'src'));
    const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../sdk/dist/index.js');
    writeFileSync(path.join(root, 'src', 'handler.ts'), `
      import { defineFunction } from ${JSON.stringify(sdk)};
      export default defineFunction({
        name: 'greet',
        source: { topic: 'names' },
        sinks: { out: { topic: 'greetings' } },
        settings: { greeting: { default: 'hello' } },
        handle: (name: string, ctx) => ctx.settings.greeting + ' ' + name,
      });
    `);
    const h = await harnessFromEntry('src/handler.ts', { root, settings: { greeting: 'bonjour' } });
    h.push('Ada');
    assert.equal(h.outputs(), ['bonjour Ada']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

settings.run();
