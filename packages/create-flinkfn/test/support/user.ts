/**
 * A new user of flinkfn on this machine: a home folder outside the checkout, npm configured with only the
 * local registry (its npmrc), an npm cache of their own, no prompts from npx.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { outsideEnv, REPO, type LocalRegistry } from './registry.js';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface User {
  home: string;
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Runs a command as the user types it, in `cwd`, with `extra` environment (a local stack's, say). */
  run(command: string, args: string[], cwd: string, extra?: Record<string, string>): Run;
}

export function useUser(test: Test, registry: () => LocalRegistry): () => User {
  let home = '';
  test.before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'flinkfn-user-'));
    assert.ok(!path.resolve(home).startsWith(REPO), 'the user directory is outside the checkout');
  });
  test.after(async () => {
    await rm(home, { recursive: true, force: true });
  });
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    outsideEnv({
      npm_config_userconfig: registry().npmrc,
      npm_config_cache: path.join(home, 'npm-cache'),
      npm_config_yes: 'true',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      ...extra,
    });
  return () => ({
    home,
    env,
    run: (command, args, cwd, extra = {}) => {
      const result = spawnSync(command, args, { cwd, env: env(extra), encoding: 'utf8', timeout: 900_000 });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr || String(result.error ?? '') };
    },
  });
}

export function ok(run: Run, what: string): Run {
  assert.is(run.status, 0, `${what} failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  return run;
}
