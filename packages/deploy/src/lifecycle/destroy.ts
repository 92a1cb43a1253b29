/**
 * `flinkfn destroy <name>`: stop the job, then delete consumer groups, topics, checkpoints, savepoints and
 * the artifacts no other deployment uses, then the deployment record. Idempotent and resumable: the
 * record says what may still exist, so running it again after a crash finishes the job.
 */
import type { ResolvedTarget } from '../config.js';
import { DeployError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { Deployment, stateKeys } from '../registry.js';
import { openSession } from '../session.js';
import { stopWithSavepoint } from './jobs.js';
import { planTeardown, releaseDeployment, type TeardownItem } from './teardown.js';

export interface DestroyOptions {
  target: ResolvedTarget;
  name: string;
  dryRun?: boolean;
  /** Take a final savepoint and keep it (and the savepoint prefix). */
  keepState?: boolean;
  savepointTimeoutMs?: number;
  onItem?: (item: TeardownItem) => void;
  onProgress?: (line: string) => void;
}

export interface DestroyResult {
  name: string;
  found: boolean;
  dryRun: boolean;
  items: TeardownItem[];
  savepoint: string | null;
  record: string;
}

export async function destroy(options: DestroyOptions): Promise<DestroyResult> {
  const session = await openSession(options.target, { startLocal: !options.dryRun, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  try {
    const deployment = await Deployment.load(session.store, options.name);
    const record = session.store.uri(`registry/${options.name}.json`);
    if (!deployment) return { name: options.name, found: false, dryRun: options.dryRun ?? false, items: [], savepoint: null, record };
    if (options.dryRun) {
      return { name: options.name, found: true, dryRun: true, items: await planTeardown(session, deployment, deployment.live()), savepoint: null, record };
    }
    if (options.keepState && session.target.kind === 'kubernetes') {
      // The operator would take it by suspending the job (job.state suspended) before the delete; not built yet.
      throw new DeployError('--keep-state is not supported on a Kubernetes target yet', { step: 'destroy', hint: `Take a savepoint with the operator (kubectl patch the job's savepointTriggerNonce), then flinkfn destroy ${options.name}.` });
    }
    await deployment.begin('destroy', null);
    failpoint('destroy:after-begin');

    let savepoint: string | null = null;
    const current = deployment.current;
    if (options.keepState) {
      if (current?.state === 'running' || current?.state === 'starting') {
        savepoint = await stopWithSavepoint(session.flink, current.jobId, session.store.uri(stateKeys(options.name).savepoints), options.savepointTimeoutMs ?? 60_000);
        await deployment.setVersionState(current, 'stopped', { savepoint });
      } else {
        savepoint = current?.savepoint ?? null;
      }
      const prefix = deployment.resource('s3-prefix', stateKeys(options.name).savepoints);
      if (prefix) {
        prefix.lifecycle = 'retain';
        await deployment.save();
      }
    }
    // Retained resources outlive the deployment by design: the record goes, the report lists them as kept.
    const items = await releaseDeployment(session, deployment, { failpointPrefix: 'destroy', ...(options.onItem ? { onItem: options.onItem } : {}) });
    return { name: options.name, found: true, dryRun: false, items, savepoint, record };
  } catch (error) {
    if (error instanceof DeployError) throw error;
    throw new DeployError(`destroy of "${options.name}" stopped: ${error instanceof Error ? error.message : String(error)}`, {
      step: 'destroy',
      hint: `Nothing is lost: run flinkfn destroy ${options.name} again to finish; the record lists what is left.`,
      cause: error,
    });
  } finally {
    await session.close();
  }
}
