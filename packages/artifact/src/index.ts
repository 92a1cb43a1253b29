/**
 * @flinkfn/artifact — the one-file, content-addressed job artifact and its manifest.
 *
 * @example
 * import { readArtifact } from '@flinkfn/artifact';
 */
export { manifestSchema, validateManifest, ManifestError } from './manifest.js';
export {
  ARTIFACT_EXTENSION,
  ARTIFACT_FORMAT,
  ARTIFACT_FORMAT_VERSION,
  ArtifactError,
  decodeArtifact,
  encodeArtifact,
  idFromFileName,
  readArtifact,
  sha256,
  writeArtifact,
} from './format.js';
export type { Artifact } from './format.js';
