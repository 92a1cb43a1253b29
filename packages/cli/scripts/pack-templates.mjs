#!/usr/bin/env node
// prepack/postpack of the flinkfn package: `flinkfn init` and create-flinkfn scaffold from templates/, which
// lives at the repository's root (one home for the templates and the CI workflow); the published package
// carries a copy. `prepack` copies it in, `postpack` removes the copy.
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const copy = path.join(packageRoot, 'templates');
const phase = process.argv[2];
rmSync(copy, { recursive: true, force: true });
if (phase === 'prepack') {
  cpSync(path.resolve(packageRoot, '..', '..', 'templates'), copy, { recursive: true, filter: (from) => path.basename(from) !== 'node_modules' });
} else if (phase !== 'postpack') {
  process.stderr.write('usage: pack-templates.mjs prepack|postpack\n');
  process.exit(2);
}
