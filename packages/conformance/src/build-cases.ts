/**
 * Builds one artifact per case into `.flinkfn/cases/<id>/` and writes `.flinkfn/cases/index.json`
 * (`{ "<id>": "<absolute artifact path>" }`) so other runtimes (the Flink runtime's tests) can run
 * exactly the artifacts the engine runs. `node dist/build-cases.js` runs it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '@flinkfn/bundler';
import { loadCases, type ConformanceCase } from './cases.js';
import { handlerSource } from './generate.js';

export const BUILD_DIRECTORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '.flinkfn', 'cases');

/** Builds a case's artifact and returns its file. */
export async function buildCase(testCase: ConformanceCase): Promise<string> {
  const root = path.join(BUILD_DIRECTORY, testCase.id);
  await mkdir(path.join(root, 'src'), { recursive: true });
  await writeFile(path.join(root, 'src', 'handler.ts'), handlerSource(testCase));
  const result = await build({ root, entry: 'src/handler.ts' });
  return result.file;
}

/** Builds every case; returns id → artifact file. */
export async function buildAllCases(): Promise<Record<string, string>> {
  const index: Record<string, string> = {};
  for (const testCase of loadCases()) index[testCase.id] = await buildCase(testCase);
  await writeFile(path.join(BUILD_DIRECTORY, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  return index;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const index = await buildAllCases();
  process.stdout.write(`built ${Object.keys(index).length} conformance artifacts into ${BUILD_DIRECTORY}\n`);
}
