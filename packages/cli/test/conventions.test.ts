/**
 * Command-line conventions: a closed pipe ends a command quietly, global options go before or after the
 * command, help wraps at word boundaries, mistyped commands and options get a "did you mean", `-` reads stdin
 * wherever the option stands, and `destroy` asks only on a terminal, as its --yes help says.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, flinkfn, project } from './helpers.js';

const test = suite('cli conventions');
const clickstream = path.join(REPO_ROOT, 'examples', 'clickstream');
/** A remote target that no one listens on: commands that reach it fail fast with a user error. */
const NOWHERE = { FLINKFN_FLINK_URL: 'http://127.0.0.1:9', FLINKFN_KAFKA_BROKERS: '127.0.0.1:9', FLINKFN_S3_BUCKET: 'nowhere', FLINKFN_SIDECAR_COMMAND: 'node sidecar.js' };

function shell(script: string, env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync('bash', ['-o', 'pipefail', '-c', script], { encoding: 'utf8', env, timeout: 120_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const STATELESS = [
  "import { defineFunction } from '@flinkfn/sdk';",
  "export default defineFunction({ name: 'echo', source: { topic: 'in' }, sinks: { out: { topic: 'out' } }, handle: (e: { n: number }) => ({ n: e.n }) });",
  '',
].join('\n');

test('a closed pipe ends dev, help and a failing command quietly, with exit code 0', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': STATELESS });
  try {
    // 20,000 results: far more than the pipe buffer, so head -1 closes it while dev still writes.
    const events = path.join(dir, 'events.jsonl');
    const made = shell(`node -e 'for (let n = 0; n < 20000; n++) console.log(JSON.stringify({ n }))' > ${events}`);
    assert.is(made.code, 0, made.stderr);
    for (const args of [`dev --root ${dir} --input ${events}`, `dev --root ${dir} --input ${events} --json`, '--help', 'deploy --help']) {
      const run = shell(`${process.execPath} ${CLI} ${args} | head -1`);
      assert.is(run.code, 0, `flinkfn ${args} | head -1: exit ${run.code}\n${run.stderr}`);
      assert.is(run.stderr, '', `flinkfn ${args} | head -1 printed on stderr`);
      assert.is(run.stdout.split('\n').filter(Boolean).length, 1);
    }
    // The piped command's own exit code, not head's: a status of 0 from the reader's side would hide a crash.
    const status = shell(`${process.execPath} ${CLI} dev --root ${dir} --input ${events} | head -1 > /dev/null; echo "\${PIPESTATUS[0]}"`);
    assert.is(status.stdout.trim(), '0');
  } finally {
    cleanup();
  }
});

test('a closed pipe stops a command that stops on SIGTERM (tail, controller) the way SIGTERM does', () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-pipe-'));
  try {
    const released = path.join(parent, 'released');
    // What tail does: write results until its AbortController aborts on SIGTERM, then release what it holds.
    const program = [
      `import { writeFileSync } from 'node:fs';`,
      `import { stopQuietlyOnClosedPipe } from ${JSON.stringify(path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'pipe.js'))};`,
      'stopQuietlyOnClosedPipe();',
      'const stop = new AbortController();',
      "process.once('SIGTERM', () => stop.abort());",
      'let n = 0;',
      'const timer = setInterval(() => { for (let i = 0; i < 1000; i++) process.stdout.write(`result ${n++}\\n`); }, 1);',
      `stop.signal.addEventListener('abort', () => { clearInterval(timer); writeFileSync(${JSON.stringify(released)}, String(n)); });`,
    ].join('\n');
    const script = path.join(parent, 'tailish.mjs');
    shell(`cat > ${script} <<'EOF'\n${program}\nEOF`);
    const run = shell(`${process.execPath} ${script} | head -1`);
    assert.is(run.code, 0, run.stderr);
    assert.is(run.stderr, '');
    assert.is(run.stdout, 'result 0\n');
    assert.ok(existsSync(released), 'the SIGTERM path ran and released what it held');
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('global options before or after the command', () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-conventions-'));
  try {
    const before = flinkfn(['--json', 'init', path.join(parent, 'a')]);
    const after = flinkfn(['init', path.join(parent, 'b'), '--json']);
    for (const run of [before, after]) {
      assert.is(run.code, 0, run.stderr);
      assert.is((JSON.parse(run.stdout) as { ok: boolean }).ok, true);
    }
    // ls is the command, not the value of --json: the error is about the target it was asked for.
    const ls = flinkfn(['--json', 'ls', '--target', 'staging'], { cwd: parent });
    assert.is(ls.code, 1);
    assert.match((JSON.parse(ls.stdout) as { error: { message: string } }).error.message, /no target named "staging"/);
    const lsTargetFirst = flinkfn(['--target', 'staging', '--json', 'ls'], { cwd: parent });
    assert.is(lsTargetFirst.code, 1);
    assert.match(lsTargetFirst.stdout, /no target named \\"staging\\"/);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('help wraps at word boundaries', () => {
  for (const command of ['deploy', 'destroy', 'dev', 'init', 'controller', 'gc', 'local']) {
    const run = flinkfn([command, '--help']);
    assert.is(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.ok(lines.every((line) => line.length <= 100), `${command} --help fits 100 columns`);
    const words = new Set(run.stdout.split(/\s+/));
    // Every word of the long descriptions is whole somewhere in the help (a word cut at the margin is not).
    for (const description of [
      'Time to live, e.g. 30m or 2h: then the controller stops it and releases everything (overrides lifetime.ttl)',
      'Stop and release it after this long without a new source record (overrides lifetime.idleTimeout)',
      'Flink restarts before the job fails for good and is released (default: unlimited)',
      'Do not ask for confirmation. It is asked only on a terminal: CI=true, --json, --dry-run and input that is not a terminal never ask',
    ]) {
      if (!run.stdout.includes(description.split(' ').slice(0, 3).join(' '))) continue;
      for (const word of description.split(' ')) assert.ok(words.has(word), `${command} --help: "${word}" is cut`);
    }
  }
});

test('did you mean: mistyped commands and options', () => {
  const cases: Array<[string[], RegExp]> = [
    [['dpeloy'], /did you mean flinkfn deploy\?/],
    [['stauts', 'x'], /did you mean flinkfn status\?/],
    [['ls', '--jsn'], /did you mean --json \(not --jsn\)\?/],
    [['deploy', '--ttll', '2h'], /did you mean --ttl \(not --ttll\)\?/],
    [['dev', '--inptu', 'x.jsonl'], /did you mean --input \(not --inptu\)\?/],
    [['destroy', 'x', '--dry-rn'], /did you mean --dry-run \(not --dry-rn\)\?/],
    [['--jsn', 'ls'], /--jsn is not an option, so "ls" was read as its value: did you mean --json\?/],
  ];
  for (const [args, hint] of cases) {
    const run = flinkfn(args);
    assert.is(run.code, 1, `flinkfn ${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, hint, `flinkfn ${args.join(' ')}`);
    assert.not.match(run.stderr, /^\s+at /m, 'no stack trace');
  }
  const json = flinkfn(['ls', '--jsn', '--json']);
  assert.match((JSON.parse(json.stdout) as { error: { hint: string } }).error.hint, /--json/);
});

test('`-` reads stdin, wherever --input stands and whichever spelling', () => {
  const events = '{"user":"u1","page":"/","ts":1714564800000}\n{"user":"u2","page":"/","ts":1714564801000}\n';
  for (const args of [
    ['dev', '--input', '-'],
    ['dev', '-i', '-'],
    ['dev', '--input=-'],
    ['dev', 'src/handler.ts', '--input', '-'],
    ['dev', '--input', '-', 'src/handler.ts'],
    ['dev', '--input', '-', '--json'],
  ]) {
    const run = flinkfn(args, { cwd: clickstream, input: events });
    assert.is(run.code, 0, `flinkfn ${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stdout + run.stderr, /2 records/, `flinkfn ${args.join(' ')} read both events from stdin`);
  }
  const piped = shell(`cd ${clickstream} && cat <<'EOF' | ${process.execPath} ${CLI} dev --input - --json\n${events}EOF`);
  assert.is(piped.code, 0, piped.stderr);
  assert.match(piped.stdout, /"recordsIn":2/);
});

test('destroy asks on a terminal, and --yes (or -y) does not ask, as its help says', () => {
  if (!existsSync('/usr/bin/script')) throw new Error('this test needs script(1) (util-linux) for a terminal');
  const help = flinkfn(['destroy', '--help']);
  assert.match(help.stdout.replace(/\s+/g, ' '), /Do not ask for confirmation\. It is asked only on a terminal/);
  const env = { ...process.env, ...NOWHERE, CI: '' };
  const onTerminal = (args: string, answer: string) =>
    spawnSync('script', ['-qec', `${process.execPath} ${CLI} destroy some-fn ${args}`, '/dev/null'], { input: answer, encoding: 'utf8', env, timeout: 60_000 });
  const declined = onTerminal('', 'n\n');
  assert.match(declined.stdout, /Destroy "some-fn" and delete its topics, state and artifacts\? \[y\/N\]/);
  assert.match(declined.stdout, /nothing destroyed/);
  assert.is(declined.status, 0);
  for (const yes of ['--yes', '-y']) {
    const run = onTerminal(yes, '');
    assert.not.match(run.stdout, /\[y\/N\]/, `${yes} does not ask`);
    assert.match(run.stdout, /error/, `${yes} goes on to the (unreachable) target`);
  }
  // Not a terminal: no question either.
  const piped = flinkfn(['destroy', 'some-fn'], { env: { ...env } });
  assert.not.match(piped.stdout + piped.stderr, /\[y\/N\]/);
  assert.is(piped.code, 1, piped.stderr);
});

test.run();
