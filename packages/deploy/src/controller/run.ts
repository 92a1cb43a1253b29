/**
 * `flinkfn controller`: runs `reconcile` every few seconds until stopped, so that deployments end, resume and
 * expire with no CLI process alive. The local stack starts one with itself; for a remote target it runs as a
 * long-lived process (a systemd unit, a Kubernetes Deployment with one replica), or `flinkfn gc` runs on a
 * schedule. Several controllers on one target are safe (every change is a compare-and-swap), only wasteful.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResolvedTarget } from '../config.js';
import { describe } from '../errors.js';
import { openSession } from '../session.js';
import { ControllerMemory, reconcile, type ControllerEvent } from './reconcile.js';

export interface ControllerOptions {
  target: ResolvedTarget;
  /** Pause between passes (default 2 s: an ended job's resources go well within a minute). */
  intervalMs?: number;
  onEvent?: (event: ControllerEvent) => void;
  /** A pass that could not reach the target (the stack is down, a network error). */
  onUnreachable?: (message: string) => void;
  signal?: AbortSignal;
}

export async function runController(options: ControllerOptions): Promise<void> {
  const memory = new ControllerMemory();
  const interval = options.intervalMs ?? 2_000;
  while (!options.signal?.aborted) {
    try {
      const session = await openSession(options.target, { startLocal: false });
      try {
        await reconcile(session, memory, { ...(options.onEvent ? { onEvent: options.onEvent } : {}) });
      } finally {
        await session.close();
      }
    } catch (error) {
      options.onUnreachable?.(describe(error));
    }
    await sleep(interval, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
  }
}
