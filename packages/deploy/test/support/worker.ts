/**
 * Runs a test worker script (TypeScript, through tsx) in its own process and resolves with the JSON object
 * on the last line of its stdout; rejects with its stderr when it exits non-zero. For tests of what several
 * processes do at once (attach/detach, compare-and-swap).
 */
import { spawn } from 'node:child_process';

export function runWorker<T>(script: string, env: Record<string, string>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T) : reject(new Error(`worker exited ${code}: ${stderr}`))));
  });
}
