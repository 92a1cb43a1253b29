#!/usr/bin/env node
// prepack/postpack of @flinkfn/deploy: the published package carries the runtime jar (runtime/flinkfn-runtime.jar)
// so that an installed flinkfn deploys without Maven or a checkout. `prepack` copies the jar Maven builds in
// packages/runtime-flink, building it first when it is missing or older than any of its sources; `postpack`
// removes the copy (in a checkout, install.ts uses Maven's own jar).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runtimeModule = path.resolve(packageRoot, '..', 'runtime-flink');
const built = path.join(runtimeModule, 'target', 'flinkfn-runtime.jar');
const packaged = path.join(packageRoot, 'runtime', 'flinkfn-runtime.jar');

function newestSource(file) {
  const info = statSync(file);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((name) => newestSource(path.join(file, name))));
}

const phase = process.argv[2];
if (phase === 'postpack') {
  rmSync(path.join(packageRoot, 'runtime'), { recursive: true, force: true });
} else if (phase === 'prepack') {
  const sourcesChanged = () => Math.max(newestSource(path.join(runtimeModule, 'src', 'main')), newestSource(path.join(runtimeModule, 'pom.xml'))) > statSync(built).mtimeMs;
  if (!existsSync(built) || sourcesChanged()) {
    process.stderr.write('building the runtime jar with Maven for the package\n');
    const mvn = spawnSync('mvn', ['-q', '-B', '-f', path.join(runtimeModule, 'pom.xml'), 'package', '-DskipTests'], { stdio: 'inherit' });
    if (mvn.status !== 0) {
      process.stderr.write(`mvn failed (exit ${mvn.status ?? mvn.error?.message}); @flinkfn/deploy cannot be packed without its runtime jar\n`);
      process.exit(1);
    }
  }
  mkdirSync(path.dirname(packaged), { recursive: true });
  copyFileSync(built, packaged);
} else {
  process.stderr.write('usage: pack-runtime-jar.mjs prepack|postpack\n');
  process.exit(2);
}
