#!/usr/bin/env node
// prepack/postpack of the flinkfn package. `flinkfn init` and create-flinkfn scaffold from templates/, which
// lives at the repository's root (one home for the templates and the CI workflow), and the flinkfn.config.json
// they write points "$schema" at node_modules/flinkfn/schema/config.schema.json, whose home is @flinkfn/deploy
// (a project always has flinkfn itself at the top of node_modules; @flinkfn/deploy only when hoisted). The
// published package carries copies of both: `prepack` copies them in, `postpack` removes them.
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const copies = [
  [path.resolve(packageRoot, '..', '..', 'templates'), path.join(packageRoot, 'templates')],
  [path.resolve(packageRoot, '..', 'deploy', 'schema', 'config.schema.json'), path.join(packageRoot, 'schema', 'config.schema.json')],
];
const phase = process.argv[2];
for (const [, copy] of copies) rmSync(path.dirname(copy) === packageRoot ? copy : path.dirname(copy), { recursive: true, force: true });
if (phase === 'prepack') {
  for (const [from, copy] of copies) cpSync(from, copy, { recursive: true, filter: (file) => path.basename(file) !== 'node_modules' });
} else if (phase !== 'postpack') {
  process.stderr.write('usage: pack-templates.mjs prepack|postpack\n');
  process.exit(2);
}
