/**
 * `flinkfn dev [entry] --input events.jsonl`: build the handler, run events through the embedded engine
 * (Flink's window semantics, no JVM) and print results as windows fire. `--watch` re-runs on change.
 */
import { createReadStream, existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { EngineStats } from '@flinkfn/engine';
import type { FunctionHost } from '@flinkfn/host';
import type { Manifest } from '@flinkfn/sdk';
import { reportError, UserError } from '../errors.js';
import { defineCommand } from '../command.js';
import { createOutput, type Output } from '../output.js';
import { DEV_VARS_FILE, SET_OPTION, parseSetOptions, readDevVars } from '../settings-options.js';

/** What `runDev` takes (the command's arguments). */
export interface DevArgs {
  entry?: string;
  root: string;
  input?: string;
  watch: boolean;
  json: boolean;
  partitions: number;
  /** `--set name=value` for plain settings. */
  set?: ReadonlyArray<string | number>;
  /** Where secrets are read from (`FLINKFN_SECRET_<NAME>`); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** `@<partition> ` at the start of an input line, with --partitions. */
const PARTITION_PREFIX = /^@(\d+) /;

export const devCommand = defineCommand({
  command: 'dev [entry]',
  describe: 'Run a handler locally on events from a JSON-lines file or stdin, printing results as windows fire',
  positionals: { entry: { type: 'string', describe: 'Handler module (default as for build)' } },
  options: {
    root: { type: 'string', default: '.', describe: 'Project directory' },
    input: { alias: 'i', type: 'string', describe: 'Events, one record per line (JSON for json sources, text for string/bytes); - for stdin' },
    watch: { alias: 'w', type: 'boolean', default: false, describe: 'Rebuild and re-run when the handler changes' },
    partitions: {
      type: 'number',
      default: 1,
      describe: 'Source partitions to model, as Flink does (the watermark is the minimum over partitions that are not idle); a line starting with @<partition> and a space comes from that partition, others from 0',
    },
    set: SET_OPTION,
  },
  examples: [
    ['$0 dev --input data/events.jsonl', 'Run the sample events'],
    ['cat events.jsonl | $0 dev --input - --json', 'Pipe events in and get JSON lines out'],
    ['$0 dev -i data/events.jsonl --set customersUrl=http://127.0.0.1:9000', 'Give a setting of the function (ctx.settings.customersUrl)'],
  ],
  epilog:
    'Event time: the watermark follows the events (max timestamp - outOfOrderness - 1 ms after each record), ' +
    'and at the end of the input every window fires. Processing time: the wall clock; open windows fire at the end. ' +
    '--json prints one JSON object per result, late event and dead letter. ' +
    "The handler's console.log/info/debug/warn/error/trace goes to stderr, each line prefixed with [<function name>]. " +
    `Settings (ctx.settings): --set name=value, then ${DEV_VARS_FILE} in the project (name=value lines, for secrets too; keep it out of git), ` +
    'then FLINKFN_SECRET_<NAME> environment variables for secrets, then the declared defaults.',
  run: async (args) => {
    await runDev(args);
  },
});

export async function runDev(args: DevArgs, stdin: Readable = process.stdin): Promise<EngineStats> {
  const out = createOutput(args.json);
  // yargs parses a lone `-` as an empty string, for the option and for the positional after it.
  if (args.entry === '') delete args.entry;
  const given = args.input === '' ? '-' : args.input;
  const input = given ?? (stdin === process.stdin && process.stdin.isTTY ? undefined : '-');
  if (input === undefined) {
    throw new UserError('no events to run', 'Pass --input events.jsonl (one event per line), or pipe events into flinkfn dev --input -.');
  }
  if (input !== '-' && !existsSync(path.resolve(args.root, input))) {
    throw new UserError(`input file ${input} does not exist`, `Check the path; it is resolved from ${path.resolve(args.root)}.`);
  }
  if (args.watch && input === '-') {
    throw new UserError('--watch needs an input file', 'Standard input can only be read once; pass --input events.jsonl.');
  }

  const stats = await runOnce(args, input, stdin, out);
  if (!args.watch) return stats;
  await watchAndRerun(args, input, out);
  return stats;
}

async function runOnce(args: DevArgs, input: string, stdin: Readable, out: Output): Promise<EngineStats> {
  out.progress('building');
  const [{ build }, { Engine }, { loadFunction, describeMetrics, redirectConsole }] = await Promise.all([
    import('@flinkfn/bundler'),
    import('@flinkfn/engine'),
    import('@flinkfn/host'),
  ]);
  // The handler's console goes to stderr, each line prefixed with the function's name (with the module's while it
  // is first imported, before the name is known): stdout carries only this command's output, so --json stays JSON.
  let label = args.entry ?? 'handler';
  const restoreConsole = redirectConsole((_level, text) => {
    process.stderr.write(text.split('\n').map((line) => `[${label}] ${line}\n`).join(''));
  });
  try {
    const built = await build({ root: args.root, ...(args.entry !== undefined ? { entry: args.entry } : {}), write: false });
    label = built.manifest.name;
    const { host } = await loadFunction(built.artifact);
    await configureSettings(host, built.manifest, args);
    out.progress(`running ${built.manifest.name} (built in ${built.durationMs.toFixed(0)} ms)`);

    const engine = new Engine(
      host,
      {
        output: (o) => {
          out.data({ type: 'output', sink: o.sink, key: o.key, value: o.value });
          out.info(`${o.sink}${o.key !== null ? ` [${o.key}]` : ''} ${JSON.stringify(o.value)}`);
        },
        late: (event) => {
          out.data({ type: 'late', event });
          out.info(`late ${JSON.stringify(event)}`);
        },
        deadLetter: (letter) => {
          out.data({ type: 'dead-letter', ...letter, at: new Date().toISOString() });
          const subject = letter.raw !== undefined ? letter.raw : JSON.stringify(letter.event ?? { key: letter.key, window: letter.window });
          const where = letter.source !== undefined && 'line' in letter.source ? ` (${letter.source.file}:${letter.source.line})` : '';
          out.info(`dead-letter (${letter.stage})${where} ${letter.error} :: ${subject}`);
          for (const frame of letter.stack ?? []) out.info(`    at ${frame}`);
        },
      },
      { processingTime: Date.now(), partitions: args.partitions },
    );

    const stream = input === '-' ? stdin : createReadStream(path.resolve(args.root, input));
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      const source = { file: input, line: lineNumber };
      engine.advanceProcessingTime(Date.now());
      const origin = args.partitions > 1 ? PARTITION_PREFIX.exec(line) : null;
      if (origin && Number(origin[1]) >= args.partitions) {
        throw new UserError(`${line.slice(0, 40)}: partition ${origin[1]} is not one of the ${args.partitions} partitions`, `Use @0 to @${args.partitions - 1}, or raise --partitions.`);
      }
      if (origin) engine.pushRecord(line.slice(origin[0].length), { partition: Number(origin[1]), source });
      else engine.pushRecord(line, { source });
      // An async handle: read on only when a slot is free, as Flink's backpressure paces the source.
      if (engine.saturated) await engine.ready();
    }
    engine.finish({ fireProcessingTimeWindows: true });
    await engine.settled();
    const s = engine.stats;
    const metrics = describeMetrics(engine.metrics);
    if (metrics.length > 0) {
      out.data({ type: 'metrics', ...engine.metrics });
      for (const line of metrics) out.info(`metric ${line}`);
    }
    out.data({ type: 'summary', function: built.manifest.name, artifact: built.id, ...s });
    process.stderr.write(
      `${built.manifest.name}: ${s.recordsIn} records → ${s.outputs} results, ${s.late} late` +
        `${s.lateDropped ? ` (+${s.lateDropped} too late, dropped)` : ''}, ${s.deadLetters} dead letters\n`,
    );
    return s;
  } finally {
    restoreConsole();
  }
}

/**
 * Gives the function its settings: `--set` over `.dev.vars` over `FLINKFN_SECRET_<NAME>` (secrets) over defaults. A
 * value for an undeclared name is an error naming where it came from; so is a missing one, saying how to give it.
 */
async function configureSettings(host: FunctionHost, manifest: Manifest, args: DevArgs): Promise<void> {
  const { secretEnvName } = await import('@flinkfn/sdk');
  const { closest } = await import('@flinkfn/sdk/did-you-mean');
  const declared = manifest.settings ?? [];
  const names = declared.map((s) => s.name);
  const set = parseSetOptions(args.set);
  const devVars = await readDevVars(args.root);
  const env = args.env ?? process.env;
  const fromEnv: Record<string, string> = {};
  for (const setting of declared) {
    const value = env[secretEnvName(setting.name)];
    if (setting.secret && value !== undefined && value !== '') fromEnv[setting.name] = value;
  }
  for (const [where, values] of [['--set', set], [devVars.file, devVars.values]] as const) {
    for (const name of Object.keys(values)) {
      const setting = declared.find((s) => s.name === name);
      if (!setting) {
        const near = closest(name, names);
        throw new UserError(`${where}: ${manifest.name} declares no setting '${name}'`,
          `${near ? `Did you mean '${near}'? ` : ''}${names.length > 0 ? `Its settings: ${names.join(', ')}.` : 'It declares no settings.'}`);
      }
      if (setting.secret && where === '--set') {
        throw new UserError(`--set ${name}: '${name}' is a secret`, `Put it in ${DEV_VARS_FILE} (${name}=...) or export ${secretEnvName(name)}; command lines end up in shell histories.`);
      }
    }
  }
  try {
    host.configure({ ...fromEnv, ...devVars.values, ...set }, (missing) => missing.map((s) => (s.secret
      ? `add ${s.name}=<value> to ${DEV_VARS_FILE} or export ${secretEnvName(s.name)}`
      : `pass --set ${s.name}=<value> or add it to ${DEV_VARS_FILE}`)).join('; ') + '.');
  } catch (error) {
    const { isSettingsError } = await import('@flinkfn/sdk');
    if (isSettingsError(error)) throw new UserError(error.message, error.hint);
    throw error;
  }
}

/** Re-runs whenever a bundled source file or the input changes; ends on SIGINT. */
async function watchAndRerun(args: DevArgs, input: string, out: Output): Promise<void> {
  const root = path.resolve(args.root);
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const rerun = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      process.stderr.write('\n— change detected, re-running —\n');
      runOnce(args, input, process.stdin, out)
        .catch((error: unknown) => process.stderr.write(reportError(error).text))
        .finally(arm);
    }, 100);
  };
  const arm = (): void => {
    for (const w of watchers) w.close();
    // Watch the project's own sources (not node_modules) and the input file.
    watchers = [watch(root, { recursive: true }, (_event, file) => {
      if (file && !file.includes('node_modules') && !file.startsWith('.flinkfn')) rerun();
    })];
  };
  arm();
  process.stderr.write(`watching ${root} (and ${input}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  for (const w of watchers) w.close();
}
