import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(PACKAGE_ROOT, '..', '..');
export const CLI = path.join(PACKAGE_ROOT, 'bin', 'flinkfn.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would. */
export function flinkfn(args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? PACKAGE_ROOT,
    ...(options.env ? { env: options.env } : {}),
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `flinkfn` as a child process without blocking this one: for tests whose process serves something the command
 * uses (a loopback HTTP server an async handler calls).
 */
export function flinkfnAsync(args: string[], options: { cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? PACKAGE_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * A throwaway project inside this package, so that `@flinkfn/sdk` resolves through this package's
 * node_modules. Returns its directory; `cleanup()` removes it.
 */
export function project(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const base = path.join(PACKAGE_ROOT, '.tmp-test');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, 'project-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A valid windowed handler, with `override` spliced into the declaration. */
export function handler(override = '', imports = 'defineFunction, eventTime, tumbling, session'): string {
  return [
    `import { ${imports} } from '@flinkfn/sdk';`,
    '',
    'export default defineFunction({',
    "  name: 'counter',",
    "  source: { topic: 'events' },",
    "  sinks: { counts: { topic: 'counts' } },",
    '  key: (e: { k: string }) => e.k,',
    '  time: eventTime({ timestamp: (e: { ts: number }) => e.ts }),',
    override || "  window: tumbling('1m'),",
    '  aggregate: { create: () => 0, add: (n: number) => n + 1, merge: (a: number, b: number) => a + b, result: (n: number) => n },',
    '});',
    '',
  ].join('\n');
}
