import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { readArtifact, type Artifact } from '@flinkfn/artifact';
import { isFunctionDefinition, type FunctionDefinition } from '@flinkfn/sdk';
import { FunctionHost } from './host.js';
import { moduleCacheDirectory } from './user-stack.js';

/**
 * An artifact whose code cannot be loaded or does not match its manifest.
 *
 * @example
 * catch (e) { if (e instanceof LoadError) console.error(e.message) }
 */
export class LoadError extends Error {
  override readonly name = 'LoadError';
}

/**
 * An artifact with its code imported.
 *
 * @example
 * const { host } = await loadFunction(artifact);
 */
export interface LoadedFunction {
  artifact: Artifact;
  definition: FunctionDefinition;
  host: FunctionHost;
}


/**
 * Imports a bundle's code as an ES module with its source map inline (so stack traces point at the
 * user's TypeScript) and returns its default export.
 *
 * @example
 * const exported = await importBundle(code, sourceMap, sha);
 */
export async function importBundle(code: string, sourceMap: string, sha256: string): Promise<unknown> {
  process.setSourceMapsEnabled(true);
  const directory = moduleCacheDirectory();
  // Named by the code and its map: the same code with another map (a rebuild that renamed its sources) is another file.
  const file = path.join(directory, `${sha256}-${createHash('sha256').update(sourceMap).digest('hex').slice(0, 16)}.mjs`);
  if (!(await stat(file).then(() => true, () => false))) {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const inlineMap = `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(sourceMap).toString('base64')}\n`;
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, code + inlineMap, { mode: 0o600 });
    await rename(temporary, file);
  }
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  return module.default;
}

/**
 * Imports an artifact's code and checks that what it declares is what its manifest says.
 *
 * @example
 * const loaded = await loadFunction(await readArtifact(file));
 */
export async function loadFunction(artifact: Artifact, where = `artifact ${artifact.id}`, settings?: Readonly<Record<string, string>>): Promise<LoadedFunction> {
  let exported: unknown;
  try {
    exported = await importBundle(artifact.code, artifact.sourceMap, artifact.manifest.bundle.sha256);
  } catch (error) {
    throw new LoadError(`${where} (${artifact.manifest.name}) failed to load: ${String(error)}`);
  }
  if (!isFunctionDefinition(exported)) {
    throw new LoadError(`${where} (${artifact.manifest.name}) has no default export made by defineFunction().`);
  }
  const declared = exported.declarations();
  const { manifestVersion: _v, protocolVersion: _p, bundle: _b, ...recorded } = artifact.manifest;
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(declared)), recorded)) {
    throw new LoadError(
      `${where}: the code declares a different function than its manifest (${artifact.manifest.name}); ` +
        'the artifact was assembled from mismatched parts. Rebuild it with `flinkfn build`.',
    );
  }
  return { artifact, definition: exported, host: new FunctionHost(artifact.manifest, exported.spec, settings) };
}

/**
 * Reads, verifies and loads an artifact file.
 *
 * @example
 * const { host } = await loadArtifactFile('.flinkfn/artifacts/<id>.flinkfn');
 */
export async function loadArtifactFile(file: string): Promise<LoadedFunction> {
  return loadFunction(await readArtifact(file), `artifact ${file}`);
}
