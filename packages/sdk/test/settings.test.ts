import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  defineFunction,
  isDeclarationError,
  isSettingsError,
  resolveSettings,
  secretEnvName,
  tumbling,
  processingTime,
  type HandleContext,
  type SettingsOf,
} from '../src/index.js';

const base = { name: 'orders', source: { topic: 'orders' }, sinks: { out: { topic: 'out' } } } as const;

const declare = suite('settings: declaration');

declare('settings become the manifest list, in name order: plain defaults are in it, secrets only by name', () => {
  const fn = defineFunction({
    ...base,
    settings: {
      region: { default: 'eu', description: 'data region' },
      apiToken: { secret: true },
      customersUrl: { default: 'http://127.0.0.1:8787' },
      requiredPlain: {},
    },
    handle: (order: { id: number }) => order,
  });
  assert.equal(fn.declarations().settings, [
    { name: 'apiToken', secret: true, default: null },
    { name: 'customersUrl', secret: false, default: 'http://127.0.0.1:8787' },
    { name: 'region', secret: false, default: 'eu', description: 'data region' },
    { name: 'requiredPlain', secret: false, default: null },
  ]);
});

declare('a function without settings has none in its manifest (artifacts built before settings stay identical)', () => {
  const fn = defineFunction({ ...base, handle: (e: unknown) => e });
  assert.is('settings' in fn.declarations(), false);
});

declare('mistakes are DeclarationErrors with the path, a hint and did-you-mean', () => {
  const cases: Array<[unknown, string, RegExp, RegExp]> = [
    [{ apiToken: { secret: true, default: 'x' } }, 'settings.apiToken.default', /a secret cannot have a default/, /FLINKFN_SECRET_API_TOKEN/],
    [{ url: { defualt: 'x' } }, 'settings.url.defualt', /unknown option 'defualt'/, /Did you mean 'default'\?/],
    [{ url: { default: 8080 } }, 'settings.url.default', /expected a string, got number 8080/, /Settings are strings/],
    [{ url: { secret: 'yes' } }, 'settings.url.secret', /expected true or false/, /secret: true/],
    [{ 'customers-url': { default: 'x' } }, 'settings.customers-url', /not a valid setting name/, /JavaScript identifier/],
    [{ url: 'http://x' }, 'settings.url', /expected an object, got 'http:\/\/x'/, /\{ default: 'value' \}/],
    [{ apiToken: { secret: true }, api_token: { secret: true } }, 'settings.api_token', /both read from FLINKFN_SECRET_API_TOKEN/, /Rename one/],
    [['url'], 'settings', /expected an object/, /For example settings:/],
  ];
  for (const [settings, path, message, hint] of cases) {
    try {
      defineFunction({ ...base, settings, handle: (e: unknown) => e } as never);
      assert.unreachable(`accepted ${JSON.stringify(settings)}`);
    } catch (error) {
      assert.ok(isDeclarationError(error), String(error));
      assert.is(error.path, path);
      assert.match(error.message, message);
      assert.match(error.hint, hint);
    }
  }
  try {
    defineFunction({ ...base, setings: {}, handle: (e: unknown) => e } as never);
    assert.unreachable('accepted setings');
  } catch (error) {
    assert.ok(isDeclarationError(error));
    assert.match(error.hint, /Did you mean 'settings'\?/);
  }
});

declare('secret environment variable names are upper snake case', () => {
  assert.is(secretEnvName('apiToken'), 'FLINKFN_SECRET_API_TOKEN');
  assert.is(secretEnvName('db_password'), 'FLINKFN_SECRET_DB_PASSWORD');
  assert.is(secretEnvName('s3Key2Value'), 'FLINKFN_SECRET_S3_KEY2_VALUE');
});

const resolve = suite('settings: resolving values');
const declared = defineFunction({ ...base, settings: { region: { default: 'eu' }, apiToken: { secret: true }, tier: {} }, handle: (e: unknown) => e }).declarations().settings ?? [];

resolve('given values win over defaults; every declared setting has a value', () => {
  assert.equal(resolveSettings(declared, { apiToken: 't', tier: 'gold' }, () => 'hint'), { apiToken: 't', region: 'eu', tier: 'gold' });
  assert.equal(resolveSettings(declared, { apiToken: 't', tier: 'gold', region: 'us' }, () => 'hint'), { apiToken: 't', region: 'us', tier: 'gold' });
});

resolve('missing values are named, all of them, with the runner\'s hint; values never appear in messages', () => {
  try {
    resolveSettings(declared, { region: 'value-of-region' }, (missing) => `give ${missing.map((s) => s.name).join(' and ')}`);
    assert.unreachable();
  } catch (error) {
    assert.ok(isSettingsError(error));
    assert.is(error.message, "no value for the settings 'apiToken' (secret), 'tier'");
    assert.is(error.setting, 'apiToken');
    assert.is(error.hint, 'give apiToken and tier');
    assert.not.match(error.message, /value-of-region/);
  }
  try {
    resolveSettings(declared, { apiToken: 'hunter2', tier: 'x', regoin: 'us' }, () => 'hint');
    assert.unreachable();
  } catch (error) {
    assert.ok(isSettingsError(error));
    assert.match(error.message, /'regoin', which the function does not declare/);
    assert.match(error.hint, /Did you mean 'region'\?/);
    assert.not.match(`${error.message} ${error.hint}`, /hunter2/);
  }
});

// --- types (checked by `pnpm run typecheck`: tsc over test files) ------------------------------

const types = suite('settings: types');

types('ctx.settings is typed from the declaration in handle, result and process', () => {
  const stateless = defineFunction({
    ...base,
    settings: { customersUrl: { default: 'http://127.0.0.1:8787' }, apiToken: { secret: true } },
    handle: (order: { id: number }, ctx) => {
      const url: string = ctx.settings.customersUrl;
      const token: string = ctx.settings.apiToken;
      // @ts-expect-error -- not declared
      void ctx.settings.customerUrl;
      // @ts-expect-error -- read-only
      ctx.settings.apiToken = 'x';
      return { ...order, url, tokenLength: token.length };
    },
  });
  const windowed = defineFunction({
    ...base,
    settings: { label: { default: 'views' } },
    key: (e: { page: string }) => e.page,
    time: processingTime(),
    window: tumbling('1m'),
    aggregate: {
      create: () => 0,
      add: (n: number) => n + 1,
      result: (n, ctx) => ({ label: ctx.settings.label, n }),
    },
  });
  const processed = defineFunction({
    ...base,
    settings: { label: { default: 'views' } },
    key: (e: { page: string }) => e.page,
    time: processingTime(),
    window: tumbling('1m'),
    process: (events, ctx) => ({ label: ctx.settings.label, n: events.length }),
  });
  const none = defineFunction({
    ...base,
    handle: (e: unknown, ctx) => {
      // @ts-expect-error -- no settings declared
      void ctx.settings.anything;
      return e;
    },
  });
  const settingsOf: SettingsOf<{ a: { default: 'x' }; b: { secret: true } }> = { a: 'x', b: 'y' };
  const context: HandleContext<typeof settingsOf> | undefined = undefined;
  assert.ok(stateless && windowed && processed && none && settingsOf && context === undefined);
});

declare.run();
resolve.run();
types.run();
