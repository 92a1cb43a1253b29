/**
 * `flinkfn build --typecheck`: esbuild strips types without checking them, so a handler with a type error bundles
 * and deploys. This runs the project's own TypeScript (resolved from the project, as `tsc` would be: its version, its
 * tsconfig.json) over the program without emitting, and turns its errors into build diagnostics.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TypeScript from 'typescript';
import { BuildError, type Diagnostic } from './diagnostics.js';

/**
 * The type errors of the project whose handler is `entry` (an absolute path); empty when there are none.
 *
 * @example
 * const errors = await typeErrors('/work/my-fn', '/work/my-fn/src/handler.ts');
 */
export async function typeErrors(root: string, entry: string): Promise<Diagnostic[]> {
  const ts = loadTypeScript(root);
  const configFile = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.json');
  let fileNames = [entry];
  // Without a tsconfig.json: what `flinkfn init` writes (strict, Node ESM), so a bare handler is checked sensibly.
  let options: TypeScript.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
  };
  if (configFile !== undefined && path.dirname(configFile).startsWith(root)) {
    const problems: TypeScript.Diagnostic[] = [];
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => problems.push(d),
    });
    if (parsed === undefined || problems.length > 0) return problems.map((d) => toDiagnostic(ts, d, root));
    options = parsed.options;
    if (parsed.fileNames.includes(entry)) fileNames = parsed.fileNames;
  }
  const program = ts.createProgram(fileNames, { ...options, noEmit: true });
  return ts.getPreEmitDiagnostics(program)
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => toDiagnostic(ts, d, root));
}

function loadTypeScript(root: string): typeof TypeScript {
  const require = createRequire(path.join(root, 'package.json'));
  try {
    return require('typescript') as typeof TypeScript;
  } catch {
    throw new BuildError([{
      message: `--typecheck needs TypeScript, and it is not installed in ${root}`,
      hint: 'Install it (npm install --save-dev typescript), or build without --typecheck.',
    }]);
  }
}

function toDiagnostic(ts: typeof TypeScript, d: TypeScript.Diagnostic, root: string): Diagnostic {
  const message = `${ts.flattenDiagnosticMessageText(d.messageText, '\n')} (TS${d.code})`;
  if (d.file === undefined || d.start === undefined) return { message };
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const lineText = d.file.text.split('\n')[line]?.replace(/\r$/, '');
  return {
    file: path.relative(root, d.file.fileName).split(path.sep).join('/'),
    line: line + 1,
    column: character + 1,
    ...(lineText !== undefined ? { lineText } : {}),
    message,
  };
}
