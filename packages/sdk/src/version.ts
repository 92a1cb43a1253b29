/** Version of this SDK; written into every manifest so a runtime can tell what built an artifact. */
export const SDK_VERSION = '0.1.0';
/** Version of the manifest format described by `schema/manifest.schema.json`. */
export const MANIFEST_VERSION = 1;
/** Version of the operator ⇄ sidecar protocol the artifact expects. */
export const PROTOCOL_VERSION = 1;
