#!/usr/bin/env node
// `npm create flinkfn@latest <dir> [-- --template <name>]`: the same scaffolding as `flinkfn init`, for people
// who do not have flinkfn yet. The generated project depends on flinkfn itself.
import { parseArgs } from 'node:util';
import { listTemplates, reportError, runInit } from 'flinkfn';

const usage = `usage: npm create flinkfn@latest <dir> [-- --template <name>] [--force]

Templates:
${listTemplates().map((t) => `  ${t.name.padEnd(18)} ${t.description}`).join('\n')}
`;

async function main() {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      template: { type: 'string', short: 't', default: 'tumbling-count' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const [dir, ...extra] = positionals;
  if (!dir || extra.length > 0) {
    process.stderr.write(`error: ${dir ? `one directory, not ${positionals.length}` : 'name the directory to create'}\n${usage}`);
    process.exitCode = 1;
    return;
  }
  await runInit({ dir, template: values.template, force: values.force, json: values.json });
}

main().catch((error) => {
  // parseArgs throws TypeErrors with a code for unknown options: a usage mistake, not a bug.
  if (error && typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`error: ${error.message}\n${usage}`);
    process.exitCode = 1;
    return;
  }
  const report = reportError(error);
  process.stderr.write(report.text);
  process.exitCode = report.code;
});
