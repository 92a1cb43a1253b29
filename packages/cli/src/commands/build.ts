/**
 * `flinkfn build [entry]`: bundle a handler into a content-addressed artifact.
 */
import path from 'node:path';
import type { BuildResult } from '@flinkfn/bundler';
import { defineCommand } from '../command.js';
import { createOutput, formatBytes } from '../output.js';

/** What `runBuild` (the package's programmatic build) takes. */
export interface BuildArgs {
  entry?: string;
  root: string;
  'out-dir'?: string;
  typecheck?: boolean;
  json: boolean;
}

export const buildCommand = defineCommand({
  command: 'build [entry]',
  describe: 'Bundle a handler into a content-addressed artifact (.flinkfn/artifacts/<sha256>.flinkfn)',
  positionals: {
    entry: { type: 'string', describe: 'Handler module (default: package.json "flinkfn.entry", src/handler.ts, src/index.ts)' },
  },
  options: {
    root: { type: 'string', default: '.', describe: 'Project directory' },
    'out-dir': { type: 'string', describe: 'Where to write the artifact (default <root>/.flinkfn/artifacts)' },
    typecheck: { type: 'boolean', default: false, describe: "Type-check with the project's TypeScript and tsconfig.json first (esbuild does not): a type error fails the build" },
  },
  examples: [
    ['$0 build', 'Build the project in the current directory'],
    ['$0 build src/alerts.ts --json', 'Build another entry and print id, file and manifest as JSON'],
    ['$0 build --typecheck', 'Fail on type errors, as tsc --noEmit would, before bundling'],
  ],
  run: async (args) => {
    await runBuild(args);
  },
});

export async function runBuild(args: BuildArgs): Promise<BuildResult> {
  const out = createOutput(args.json);
  out.progress(args.typecheck ? 'type-checking, then bundling with esbuild' : 'bundling with esbuild');
  const { build } = await import('@flinkfn/bundler');
  const result = await build({
    root: args.root,
    ...(args.typecheck ? { typecheck: true } : {}),
    ...(args.entry !== undefined ? { entry: args.entry } : {}),
    ...(args['out-dir'] !== undefined ? { outDir: args['out-dir'] } : {}),
  });
  const relative = path.relative(process.cwd(), result.file) || result.file;
  out.info(`built ${result.manifest.name} in ${result.durationMs.toFixed(0)} ms`);
  out.info(`  artifact  ${relative} (${formatBytes(result.bytes)})`);
  out.info(`  id        ${result.id}`);
  out.info(`  reads     ${result.manifest.source.topic} (${result.manifest.source.format})`);
  out.info(`  writes    ${result.manifest.resources.filter((r) => r.owned).map((r) => `${r.name} [${r.lifecycle}]`).join(', ')}`);
  out.data({ ok: true, id: result.id, file: result.file, bytes: result.bytes, durationMs: Math.round(result.durationMs), manifest: result.manifest });
  return result;
}
