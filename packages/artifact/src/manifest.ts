import { createRequire } from 'node:module';
import type { ErrorObject } from 'ajv';
import type { Manifest } from '@flinkfn/sdk';
import { validate as generatedValidator } from './generated/validate-manifest.js';

const require = createRequire(import.meta.url);

/** The manifest JSON Schema shipped with the SDK. */
export const manifestSchema: object = require('@flinkfn/sdk/manifest.schema.json') as object;

/** ajv's validator compiled ahead of time from `manifestSchema` (scripts/generate-validator.mjs). */
const validator = generatedValidator as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * A manifest that does not match its schema. `problems` lists each mismatch as `path: message`.
 *
 * @example
 * try { validateManifest(json, 'build/x.flinkfn') } catch (e) { if (e instanceof ManifestError) console.error(e.problems) }
 */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  readonly problems: string[];
  constructor(where: string, problems: string[]) {
    super(`invalid manifest in ${where}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/**
 * Checks `value` against the manifest schema and returns it typed, or throws a {@link ManifestError}
 * naming `where` it came from. Called at build time and wherever a manifest is loaded.
 *
 * @example
 * const manifest = validateManifest(JSON.parse(text), 'artifact abc123');
 */
export function validateManifest(value: unknown, where: string): Manifest {
  if (validator(value)) return value as Manifest;
  throw new ManifestError(where, (validator.errors ?? []).map(describeSchemaError));
}

function describeSchemaError(error: ErrorObject): string {
  const path = error.instancePath === '' ? '(manifest)' : error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    return `${path}: unknown property '${String(error.params['additionalProperty'])}'`;
  }
  return `${path}: ${error.message ?? error.keyword}`;
}
