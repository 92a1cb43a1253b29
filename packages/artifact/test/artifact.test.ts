import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineFunction, eventTime, session, type Manifest } from '@flinkfn/sdk';
import { ArtifactError, ManifestError, decodeArtifact, encodeArtifact, readArtifact, sha256, validateManifest, writeArtifact } from '../src/index.js';

const code = 'export default 1;\n';
const declarations = defineFunction({
  name: 'sessions',
  source: { topic: 'events' },
  sinks: { out: { topic: 'sessions' } },
  key: (e: { user: string; ts: number }) => e.user,
  time: eventTime({ timestamp: (e: { user: string; ts: number }) => e.ts }),
  window: session('30m'),
  aggregate: { create: () => 0, add: (n: number) => n + 1, merge: (a: number, b: number) => a + b, result: (n: number) => n },
}).declarations();
const manifest: Manifest = {
  manifestVersion: 1,
  protocolVersion: 1,
  ...declarations,
  bundle: { format: 'esm', sha256: sha256(code), bytes: code.length, entry: 'src/handler.ts' },
};

// ---
const schema = suite('manifest schema');

schema('what defineFunction declares validates against the shipped schema', () => {
  assert.equal(validateManifest(structuredClone(manifest), 'test'), manifest);
});

schema('a manifest with a wrong or unknown field is rejected with every problem listed', () => {
  const broken = { ...structuredClone(manifest), name: 'Bad Name', extra: true } as unknown;
  try {
    validateManifest(broken, 'a.flinkfn');
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ManifestError);
    const problems = (error as ManifestError).problems.join('\n');
    assert.match(problems, /name: must match pattern/);
    assert.match(problems, /unknown property 'extra'/);
    assert.match((error as Error).message, /invalid manifest in a\.flinkfn/);
  }
});

schema.run();

// ---
const files = suite('artifact files');

files('encoding is deterministic and the id is the sha256 of the bytes', () => {
  const a = encodeArtifact({ manifest, code, sourceMap: '{}' });
  const reordered = Object.fromEntries(Object.entries(manifest).reverse()) as unknown as Manifest; // same content, other key order
  const b = encodeArtifact({ manifest: reordered, code, sourceMap: '{}' });
  assert.ok(a.equals(b));
  assert.is(decodeArtifact(a, 'x').id, sha256(a));
});

files('writing twice lands at one content-addressed path that reads back', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-artifact-'));
  try {
    const first = await writeArtifact(dir, { manifest, code, sourceMap: '{}' });
    const second = await writeArtifact(dir, { manifest, code, sourceMap: '{}' });
    assert.is(first.file, second.file);
    assert.is(path.basename(first.file), `${first.id}.flinkfn`);
    const artifact = await readArtifact(first.file);
    assert.is(artifact.code, code);
    assert.equal(artifact.manifest, manifest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

files('a tampered artifact is refused: changed bytes no longer match the id in the file name', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-artifact-'));
  try {
    const { file } = await writeArtifact(dir, { manifest, code, sourceMap: '{}' });
    writeFileSync(file, readFileSync(file, 'utf8').replace('export default 1', 'export default 2'));
    await readArtifact(file).then(
      () => assert.unreachable('accepted'),
      (error: unknown) => {
        assert.instance(error, ArtifactError);
        assert.match((error as Error).message, /does not match its id/);
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

files('changed code under a new name is refused because it does not match the manifest hash', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-artifact-'));
  try {
    const { file } = await writeArtifact(dir, { manifest, code, sourceMap: '{}' });
    const renamed = path.join(dir, 'renamed.flinkfn');
    renameSync(file, renamed);
    writeFileSync(renamed, readFileSync(renamed, 'utf8').replace('export default 1', 'export default 2'));
    await readArtifact(renamed).then(
      () => assert.unreachable('accepted'),
      (error: unknown) => assert.match((error as Error).message, /tampered with/),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

files('a missing file and a file that is not an artifact say what to do', async () => {
  await readArtifact('/nonexistent/a.flinkfn').then(
    () => assert.unreachable(),
    (error: unknown) => assert.match((error as Error).message, /does not exist.*flinkfn build/),
  );
  assert.throws(() => decodeArtifact(Buffer.from('hello'), 'x.flinkfn'), /not a flinkfn artifact/);
  assert.throws(() => decodeArtifact(Buffer.from('{"format":"flinkfn-artifact","formatVersion":9}'), 'x'), /format version 9/);
});

files.run();

const generated = suite('the precompiled manifest validator');

generated('is up to date with the manifest schema (run scripts/generate-validator.mjs after changing it)', async () => {
  const { readFileSync } = await import('node:fs');
  const { validatorSource } = (await import(new URL('../scripts/generate-validator.mjs', import.meta.url).href)) as { validatorSource: () => string };
  const committed = readFileSync(new URL('../src/generated/validate-manifest.ts', import.meta.url), 'utf8');
  assert.ok(committed === validatorSource(), 'src/generated/validate-manifest.ts is stale');
});

generated.run();
