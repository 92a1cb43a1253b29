/**
 * Deployments tied to a scope of the program that made them, like a destructor: `await using` (or an explicit
 * `dispose()`) destroys the deployment when the scope ends, normally or by a thrown error. SIGINT and SIGTERM
 * destroy every live scope before the process exits, and so does the end of the event loop for a scope the
 * program forgot to close. What a SIGKILL leaves is the controller's and `flinkfn gc`'s to find: the record
 * of a scoped deployment carries a TTL when one is given, and gc treats its records like any other.
 *
 * @example
 * await using fn = await deployScoped({ target, root: '.' });
 * await send(target, fn.name, () => events);   // …test against it; it is destroyed at the end of the block
 */
import { deploy, type DeployOptions, type DeployResult } from './deploy.js';
import { destroy, type DestroyResult } from './destroy.js';

export interface ScopedDeployment extends DeployResult, AsyncDisposable {
  /** Destroys the deployment (idempotent: a second call returns the first call's result). */
  dispose(): Promise<DestroyResult>;
}

const live = new Set<ScopedDeployment>();
let hooked = false;

export async function deployScoped(options: DeployOptions): Promise<ScopedDeployment> {
  const result = await deploy(options);
  let disposing: Promise<DestroyResult> | undefined;
  const scoped: ScopedDeployment = {
    ...result,
    dispose() {
      disposing ??= destroy({ target: options.target, name: result.name }).finally(() => live.delete(scoped));
      return disposing;
    },
    async [Symbol.asyncDispose]() {
      await scoped.dispose();
    },
  };
  live.add(scoped);
  hookProcess();
  return scoped;
}

/** Disposes every live scope (for signal handlers and the end of the program). */
export async function disposeAll(): Promise<void> {
  await Promise.allSettled([...live].map((s) => s.dispose()));
}

function hookProcess(): void {
  if (hooked) return;
  hooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void disposeAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  // The event loop emptied with scopes still open (a missing `await using`): close them, which schedules more work.
  process.on('beforeExit', () => {
    if (live.size > 0) void disposeAll();
  });
}
