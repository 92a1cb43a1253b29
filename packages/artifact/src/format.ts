/**
 * The artifact file: one JSON document holding the manifest, the bundled ES module and its source map.
 * Its id is the sha256 of the file's bytes, and its file name is `<id>.flinkfn`, so a file can be
 * checked against its name and the same source always lands at the same place.
 *
 *   { "format": "flinkfn-artifact", "formatVersion": 1, "manifest": {...}, "code": "...", "sourceMap": "..." }
 *
 * Keys are written in that order and the manifest with sorted keys, so the bytes are deterministic.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '@flinkfn/sdk';
import { validateManifest } from './manifest.js';

export const ARTIFACT_FORMAT = 'flinkfn-artifact';
export const ARTIFACT_FORMAT_VERSION = 1;
export const ARTIFACT_EXTENSION = '.flinkfn';

/**
 * A loaded artifact.
 *
 * @example
 * const artifact: Artifact = await readArtifact('.flinkfn/artifacts/3f…9a.flinkfn');
 */
export interface Artifact {
  /** sha256 (hex) of the artifact file. */
  id: string;
  manifest: Manifest;
  code: string;
  sourceMap: string;
}

/**
 * An artifact that cannot be used: missing, tampered with, or not an artifact.
 *
 * @example
 * catch (e) { if (e instanceof ArtifactError) console.error(e.message) }
 */
export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
}

/** sha256 of `data` as lower-case hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Serializes an artifact deterministically.
 *
 * @example
 * const bytes = encodeArtifact({ manifest, code, sourceMap });
 */
export function encodeArtifact(parts: Omit<Artifact, 'id'>): Buffer {
  const document = {
    format: ARTIFACT_FORMAT,
    formatVersion: ARTIFACT_FORMAT_VERSION,
    manifest: sortKeys(parts.manifest),
    code: parts.code,
    sourceMap: parts.sourceMap,
  };
  return Buffer.from(JSON.stringify(document) + '\n', 'utf8');
}

/**
 * Parses and checks artifact bytes: the id must match the content (when given), the document must be an
 * artifact, the manifest must match its schema, and the code must match the manifest's hash.
 *
 * @example
 * const artifact = decodeArtifact(bytes, 's3://bucket/a.flinkfn', expectedId);
 */
export function decodeArtifact(bytes: Uint8Array, where: string, expectedId?: string): Artifact {
  const id = sha256(bytes);
  if (expectedId !== undefined && id !== expectedId) {
    throw new ArtifactError(
      `artifact ${where} does not match its id: expected sha256 ${expectedId}, the content hashes to ${id}. ` +
        'The file was changed or truncated after it was built; rebuild it with `flinkfn build`.',
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new ArtifactError(`${where} is not a flinkfn artifact (not JSON). Build one with \`flinkfn build\`.`);
  }
  const doc = document as Record<string, unknown>;
  if (typeof document !== 'object' || document === null || doc['format'] !== ARTIFACT_FORMAT) {
    throw new ArtifactError(`${where} is not a flinkfn artifact (no "format": "${ARTIFACT_FORMAT}").`);
  }
  if (doc['formatVersion'] !== ARTIFACT_FORMAT_VERSION) {
    throw new ArtifactError(
      `${where} has artifact format version ${String(doc['formatVersion'])}; this flinkfn reads version ` +
        `${ARTIFACT_FORMAT_VERSION}. Rebuild it with this version of \`flinkfn build\`.`,
    );
  }
  const manifest = validateManifest(doc['manifest'], where);
  const code = doc['code'];
  const sourceMap = doc['sourceMap'];
  if (typeof code !== 'string' || typeof sourceMap !== 'string') {
    throw new ArtifactError(`${where} has no code or source map.`);
  }
  const codeHash = sha256(code);
  if (codeHash !== manifest.bundle.sha256) {
    throw new ArtifactError(
      `the code in ${where} hashes to ${codeHash} but its manifest says ${manifest.bundle.sha256}; ` +
        'the artifact was tampered with. Rebuild it with `flinkfn build`.',
    );
  }
  return { id, manifest, code, sourceMap };
}

/**
 * Writes an artifact into `directory` as `<id>.flinkfn` (atomically; a no-op when it is already there).
 *
 * @example
 * const { id, file } = await writeArtifact('.flinkfn/artifacts', { manifest, code, sourceMap });
 */
export async function writeArtifact(
  directory: string,
  parts: Omit<Artifact, 'id'>,
): Promise<{ id: string; file: string; bytes: number }> {
  const bytes = encodeArtifact(parts);
  const id = sha256(bytes);
  const file = path.join(directory, `${id}${ARTIFACT_EXTENSION}`);
  const exists = await stat(file).then((s) => s.size === bytes.length, () => false);
  if (!exists) {
    await mkdir(directory, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  }
  return { id, file, bytes: bytes.length };
}

/**
 * Reads an artifact file. When the file name is content-addressed (`<64 hex>.flinkfn`) the content must
 * match it.
 *
 * @example
 * const artifact = await readArtifact(file);
 */
export async function readArtifact(file: string): Promise<Artifact> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : String(error);
    throw new ArtifactError(`cannot read artifact ${file}: ${reason}. Build one with \`flinkfn build\`.`);
  }
  return decodeArtifact(bytes, file, idFromFileName(file));
}

/** The id in a content-addressed artifact file name, if the name is one. */
export function idFromFileName(file: string): string | undefined {
  const match = /^([0-9a-f]{64})\.flinkfn$/.exec(path.basename(file));
  return match?.[1];
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}
