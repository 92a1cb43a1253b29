/**
 * `flinkfn build`: bundle a handler with esbuild (Node 20, ESM, source map), import the bundle once to
 * read its declarations, and write manifest + code + source map as one content-addressed artifact.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { encodeArtifact, sha256, validateManifest, writeArtifact, type Artifact } from '@flinkfn/artifact';
import {
  isDeclarationError,
  MANIFEST_VERSION,
  PROTOCOL_VERSION,
  isFunctionDefinition,
  type FunctionDeclarations,
  type Manifest,
} from '@flinkfn/sdk';
import { BuildError, locateInSource, type Diagnostic } from './diagnostics.js';
import { typeErrors } from './typecheck.js';
import { importBundle } from '@flinkfn/host';

/**
 * What to build.
 *
 * @example
 * await build({ entry: 'src/handler.ts', root: process.cwd() });
 */
export interface BuildOptions {
  /** Handler module; relative to `root`. Default: package.json `flinkfn.entry`, else `src/handler.ts`, else `src/index.ts`. */
  entry?: string;
  /** Project directory; default the current directory. */
  root?: string;
  /** Where the artifact goes; default `<root>/.flinkfn/artifacts`. */
  outDir?: string;
  /** Write the artifact file (default true); false only computes it. */
  write?: boolean;
  /** Type-check the project with its own TypeScript first; a type error fails the build (default false). */
  typecheck?: boolean;
}

/**
 * A built artifact.
 *
 * @example
 * const { id, file, manifest } = await build({ root });
 */
export interface BuildResult {
  id: string;
  /** Artifact file, absolute; `<outDir>/<id>.flinkfn`. */
  file: string;
  bytes: number;
  manifest: Manifest;
  artifact: Artifact;
  /** Files esbuild read, absolute (for watch mode). */
  inputs: string[];
  durationMs: number;
}

const BANNER =
  // Bundled CommonJS dependencies may call require(); give them one in the ES module.
  "import { createRequire as __flinkfnCreateRequire } from 'node:module';\n" +
  'const require = __flinkfnCreateRequire(import.meta.url);';

/**
 * Builds the artifact of a handler module.
 *
 * @example
 * const result = await build({ root: 'examples/clickstream' });
 * console.log(result.id);
 */
export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const root = path.resolve(options.root ?? process.cwd());
  const entry = await resolveEntry(root, options.entry);
  const relativeEntry = path.relative(root, entry).split(path.sep).join('/');
  if (options.typecheck) {
    const errors = await typeErrors(root, entry);
    if (errors.length > 0) throw new BuildError(errors);
  }

  let output: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    output = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile: path.join(root, '.flinkfn', 'bundle', 'function.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'external',
      sourcesContent: true,
      legalComments: 'none',
      charset: 'utf8',
      banner: { js: BANNER },
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
  } catch (error) {
    throw fromEsbuildFailure(error, root);
  }
  const code = output.outputFiles.find((f) => f.path.endsWith('.mjs'))?.text;
  const bundleMap = output.outputFiles.find((f) => f.path.endsWith('.map'))?.text;
  if (code === undefined || bundleMap === undefined) throw new Error('esbuild produced no bundle');
  const sourceMap = withProjectRelativeSources(bundleMap, root, path.join(root, '.flinkfn', 'bundle'));
  const inputs = Object.keys(output.metafile.inputs).map((input) => path.resolve(root, input));

  const codeSha = sha256(code);
  const declarations = await readDeclarations(code, sourceMap, codeSha, entry, relativeEntry);
  const manifest = validateManifest(
    {
      manifestVersion: MANIFEST_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      ...declarations,
      bundle: { format: 'esm', sha256: codeSha, bytes: Buffer.byteLength(code), entry: relativeEntry },
    },
    relativeEntry,
  );

  const outDir = path.resolve(root, options.outDir ?? path.join('.flinkfn', 'artifacts'));
  const parts = { manifest, code, sourceMap };
  let id: string;
  let file: string;
  let bytes: number;
  if (options.write === false) {
    const encoded = encodeArtifact(parts);
    id = sha256(encoded);
    file = path.join(outDir, `${id}.flinkfn`);
    bytes = encoded.length;
  } else {
    ({ id, file, bytes } = await writeArtifact(outDir, parts));
  }
  return {
    id,
    file,
    bytes,
    manifest,
    artifact: { id, ...parts },
    inputs,
    durationMs: performance.now() - started,
  };
}

async function resolveEntry(root: string, entry: string | undefined): Promise<string> {
  const exists = (file: string): Promise<boolean> => stat(file).then((s) => s.isFile(), () => false);
  if (entry !== undefined) {
    const file = path.resolve(root, entry);
    if (!(await exists(file))) {
      throw new BuildError([{ message: `entry ${entry} does not exist`, hint: `Check the path; it is resolved from ${root}.` }]);
    }
    return file;
  }
  const fromPackage = await readFile(path.join(root, 'package.json'), 'utf8').then(
    (text) => (JSON.parse(text) as { flinkfn?: { entry?: string } }).flinkfn?.entry,
    () => undefined,
  );
  for (const candidate of [fromPackage, 'src/handler.ts', 'src/index.ts'].filter((c): c is string => !!c)) {
    const file = path.resolve(root, candidate);
    if (await exists(file)) return file;
  }
  throw new BuildError([{
    message: `no handler found in ${root}`,
    hint: 'Pass the entry (flinkfn build src/my-function.ts), set "flinkfn": { "entry": ... } in package.json, or create src/handler.ts.',
  }]);
}

async function readDeclarations(
  code: string,
  sourceMap: string,
  codeSha: string,
  entry: string,
  relativeEntry: string,
): Promise<FunctionDeclarations> {
  const source = await readFile(entry, 'utf8');
  let exported: unknown;
  try {
    exported = await importBundle(code, sourceMap, codeSha);
  } catch (error) {
    if (isDeclarationError(error)) {
      const location = locateInSource(source, error);
      throw new BuildError([{
        file: relativeEntry,
        ...location,
        message: `invalid function declaration: ${error.message}`,
        hint: error.hint,
      }]);
    }
    throw new BuildError([{
      file: relativeEntry,
      message: `the module threw while loading: ${String(error)}`,
      hint: 'Code at the top level of a handler module runs at build time; move side effects into handle(). ' +
        `Stack:\n${error instanceof Error ? (error.stack ?? '') : ''}`,
    }]);
  }
  if (exported === undefined) {
    throw new BuildError([{
      file: relativeEntry,
      message: 'the module has no default export',
      hint: "Export the function as the module's default: export default defineFunction({ ... }).",
    }]);
  }
  if (!isFunctionDefinition(exported)) {
    throw new BuildError([{
      file: relativeEntry,
      message: 'the default export was not made by defineFunction()',
      hint: "Wrap the declaration: import { defineFunction } from '@flinkfn/sdk'; export default defineFunction({ ... }).",
    }]);
  }
  return exported.declarations();
}

function fromEsbuildFailure(error: unknown, root: string): Error {
  const failure = error as { errors?: esbuild.Message[] };
  if (!Array.isArray(failure.errors)) return error instanceof Error ? error : new Error(String(error));
  const diagnostics: Diagnostic[] = failure.errors.map((message) => {
    const diagnostic: Diagnostic = { message: message.text };
    if (message.location) {
      diagnostic.file = path.relative(root, path.resolve(root, message.location.file)).split(path.sep).join('/');
      diagnostic.line = message.location.line;
      diagnostic.column = message.location.column + 1;
      diagnostic.lineText = message.location.lineText;
    }
    const note = message.notes.map((n) => n.text).filter(Boolean).join(' ');
    if (note) diagnostic.hint = note;
    else if (/Could not resolve/.test(message.text)) diagnostic.hint = 'Install the package (pnpm add <name>) or fix the import path.';
    return diagnostic;
  });
  return new BuildError(diagnostics);
}

/**
 * The source map with its `sources` relative to the project root (`src/handler.ts`) instead of to esbuild's output
 * folder (`../../src/handler.ts`): the artifact then names the user's files as the project does, wherever it is loaded,
 * and the host can tell the user's stack frames from a dependency's (see `userStack`).
 */
function withProjectRelativeSources(sourceMap: string, root: string, outDir: string): string {
  const map = JSON.parse(sourceMap) as { sources?: string[] };
  map.sources = (map.sources ?? []).map((source) => path.relative(root, path.resolve(outDir, source)).split(path.sep).join('/'));
  return JSON.stringify(map);
}
