import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flinkfn, handler, project } from './helpers.js';

const errors = suite('flinkfn build reports bad input for humans');

interface BadInput {
  what: string;
  source: string;
  /** Every string must appear in stderr. */
  expect: string[];
}

const cases: BadInput[] = [
  {
    what: 'a TypeScript syntax error shows file:line:col and the offending line',
    source: "import { defineFunction } from '@flinkfn/sdk';\nexport default defineFunction({\n  name: 'x',,\n});\n",
    expect: ['src/handler.ts:3:13: error:', "  3 |   name: 'x',,", '    |             ^'],
  },
  {
    what: 'a module without a default export says how to export the function',
    source: "import { defineFunction } from '@flinkfn/sdk';\nexport const fn = 1;\n",
    expect: ['src/handler.ts: error: the module has no default export', 'export default defineFunction'],
  },
  {
    what: 'a session window without merge points at the accumulator and says to add merge',
    source: handler("  window: session('5m'),").replace(', merge: (a: number, b: number) => a + b', ''),
    expect: ['src/handler.ts:', 'aggregate.merge: session windows need a merge function', 'add merge: (a, b) =>'],
  },
  {
    what: 'a window without key says windows are computed per key',
    source: handler().replace("  key: (e: { k: string }) => e.k,\n", ''),
    expect: ['key: a windowed function needs a key', 'Add key: (event) =>'],
  },
  {
    what: "a negative duration such as '-5s' is shown at its position",
    source: handler("  window: tumbling('-5s'),"),
    expect: ["src/handler.ts:9:20: error: invalid function declaration: window.size: '-5s' is negative", "tumbling('-5s')", 'non-negative duration'],
  },
  {
    what: 'an unknown option names the option, its position and the closest known one',
    source: handler("  window: tumbling('1m'),\n  allowedLatness: '5s',"),
    expect: ["src/handler.ts:10:3: error: invalid function declaration: allowedLatness: unknown option 'allowedLatness'", "Did you mean 'allowedLateness'?"],
  },
  {
    what: 'an import that cannot be resolved names the package',
    source: "import { defineFunction } from '@flinkfn/sdk';\nimport leftPad from 'left-pad-that-is-not-installed';\nexport default defineFunction({ name: 'x', source: { topic: 'a' }, sinks: { b: { topic: 'b' } }, handle: (e: string) => leftPad(e) });\n",
    expect: ['src/handler.ts:2:', 'Could not resolve "left-pad-that-is-not-installed"'],
  },
];

for (const bad of cases) {
  errors(bad.what, () => {
    const { dir, cleanup } = project({ 'src/handler.ts': bad.source });
    try {
      const run = flinkfn(['build', '--root', dir]);
      assert.is(run.code, 1, `exit code, stderr:\n${run.stderr}`);
      for (const expected of bad.expect) assert.ok(run.stderr.includes(expected), `stderr lacks ${JSON.stringify(expected)}:\n${run.stderr}`);
      assert.not.match(run.stderr, /^\s+at /m, 'no stack trace');
      assert.is(run.stdout, '');
    } finally {
      cleanup();
    }
  });
}

errors('--json puts the error and its diagnostics on stdout with exit code 1', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': handler("  window: tumbling('-5s'),") });
  try {
    const run = flinkfn(['build', '--root', dir, '--json']);
    assert.is(run.code, 1);
    const parsed = JSON.parse(run.stdout) as { ok: boolean; error: { diagnostics: Array<{ file: string; line: number }> } };
    assert.is(parsed.ok, false);
    assert.is(parsed.error.diagnostics[0]?.file, 'src/handler.ts');
    assert.is(parsed.error.diagnostics[0]?.line, 9);
  } finally {
    cleanup();
  }
});

errors('an unknown command line option is a usage error with exit code 1', () => {
  const run = flinkfn(['build', '--no-such-flag']);
  assert.is(run.code, 1);
  assert.match(run.stderr, /Unknown argument/);
});

errors('a missing entry file says where it was looked for', () => {
  const { dir, cleanup } = project({ 'README.md': 'empty' });
  try {
    const run = flinkfn(['build', '--root', dir]);
    assert.is(run.code, 1);
    assert.match(run.stderr, /no handler found/);
    assert.match(run.stderr, /src\/handler\.ts/);
  } finally {
    cleanup();
  }
});

/** A stateless handler, type-correct unless `handle` is replaced. */
const stateless = (handle = '(e: { n: number }) => ({ twice: e.n * 2 })'): string => [
  "import { defineFunction } from '@flinkfn/sdk';",
  '',
  'export default defineFunction({',
  "  name: 'doubler',",
  "  source: { topic: 'numbers' },",
  "  sinks: { out: { topic: 'doubled' } },",
  `  handle: ${handle},`,
  '});',
  '',
].join('\n');

errors('a type error bundles without --typecheck and fails the build with it, saying file, line, column and the TS code', () => {
  // A string doubled: esbuild strips the types and bundles it; tsc does not accept it.
  const { dir, cleanup } = project({ 'src/handler.ts': stateless('(e: { n: string }) => ({ twice: e.n * 2 })') });
  try {
    assert.is(flinkfn(['build', '--root', dir]).code, 0, 'esbuild alone accepts it');
    const run = flinkfn(['build', '--root', dir, '--typecheck', '--json']);
    assert.is(run.code, 1, run.stderr);
    const parsed = JSON.parse(run.stdout) as { ok: boolean; error: { diagnostics: Array<{ file: string; line: number; column: number; message: string }> } };
    assert.is(parsed.ok, false);
    assert.equal(parsed.error.diagnostics.map((d) => [d.file, d.line, d.column]), [['src/handler.ts', 7, 43]]);
    assert.match(parsed.error.diagnostics[0]?.message ?? '', /The left-hand side of an arithmetic operation must be .*\(TS2362\)/);
    const human = flinkfn(['build', '--root', dir, '--typecheck']);
    assert.is(human.code, 1);
    assert.match(human.stderr, /src\/handler\.ts:7:43/);
    assert.not.match(human.stderr, /^\s+at /m, 'no stack trace');
  } finally {
    cleanup();
  }
});

errors('--typecheck passes a project without type errors', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': stateless() });
  try {
    const run = flinkfn(['build', '--root', dir, '--typecheck']);
    assert.is(run.code, 0, run.stderr);
  } finally {
    cleanup();
  }
});

errors.run();

const good = suite('flinkfn build on a valid handler');

good('building the same source twice gives the same content-addressed artifact', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': handler() });
  try {
    const first = flinkfn(['build', '--root', dir, '--json']);
    const second = flinkfn(['build', '--root', dir, '--json']);
    assert.is(first.code, 0, first.stderr);
    const a = JSON.parse(first.stdout) as { id: string; file: string };
    const b = JSON.parse(second.stdout) as { id: string; file: string };
    assert.match(a.id, /^[0-9a-f]{64}$/);
    assert.is(a.id, b.id);
    assert.ok(a.file.endsWith(`${a.id}.flinkfn`));
  } finally {
    cleanup();
  }
});

good('changing the handler changes the artifact id', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': handler() });
  const other = project({ 'src/handler.ts': handler("  window: tumbling('2m'),") });
  try {
    const a = JSON.parse(flinkfn(['build', '--root', dir, '--json']).stdout) as { id: string };
    const b = JSON.parse(flinkfn(['build', '--root', other.dir, '--json']).stdout) as { id: string; manifest: { window: { assigner: { sizeMs: number } } } };
    assert.is.not(a.id, b.id);
    assert.is(b.manifest.window.assigner.sizeMs, 120_000);
  } finally {
    cleanup();
    other.cleanup();
  }
});

good('--version prints the version and --help lists the commands', () => {
  assert.match(flinkfn(['--version']).stdout, /^\d+\.\d+\.\d+/);
  const help = flinkfn(['--help']).stdout;
  for (const command of ['build', 'dev', 'init']) assert.match(help, new RegExp(`flinkfn ${command}`));
});

good.run();
