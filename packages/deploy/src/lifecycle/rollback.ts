/**
 * `flinkfn rollback <name>`: stop the current version with a savepoint and start the previous one from
 * it, so windows keep their state across the round trip.
 */
import type { ResolvedTarget } from '../config.js';
import { DeployError } from '../errors.js';
import { Deployment, stateKeys } from '../registry.js';
import { openSession } from '../session.js';
import { restartVersion, undoUnfinished } from './versions.js';
import { cancelJob, stopWithSavepoint } from './jobs.js';

export interface RollbackOptions {
  target: ResolvedTarget;
  name: string;
  fromScratch?: boolean;
  savepointTimeoutMs?: number;
  onProgress?: (line: string) => void;
}

export interface RollbackResult {
  name: string;
  from: number;
  to: number;
  jobId: string;
  artifactId: string;
  restoredFrom: string | null;
}

export async function rollback(options: RollbackOptions): Promise<RollbackResult> {
  const progress = options.onProgress ?? (() => {});
  const session = await openSession(options.target, { startLocal: true, onProgress: progress });
  try {
    const deployment = await Deployment.load(session.store, options.name);
    if (!deployment) throw new DeployError(`no deployment named "${options.name}"`, { step: 'rollback', hint: 'flinkfn ls lists the deployments of this target.' });
    if (deployment.record.operation?.kind === 'destroy') {
      throw new DeployError(`a destroy of "${options.name}" did not finish`, { step: 'rollback', hint: `Run flinkfn destroy ${options.name} to finish it.` });
    }
    if (deployment.record.operation) await undoUnfinished(session, deployment);
    const current = deployment.current;
    const previous = deployment.previous;
    if (!current || !previous) {
      throw new DeployError(`"${options.name}" has no earlier version to go back to`, { step: 'rollback', hint: 'Rollback needs two deployed versions; flinkfn status shows them.' });
    }
    await deployment.begin('rollback', previous.version);
    let savepoint: string | null = current.savepoint;
    if (session.target.kind === 'kubernetes' && (current.state === 'running' || current.state === 'starting')) {
      // Applying the previous version's spec makes the operator stop this one per its upgrade mode (savepoint or
      // last-state) and start the previous one from that state.
      if (options.fromScratch) throw new DeployError('--from-scratch is not supported on a Kubernetes target yet', { step: 'rollback', hint: `flinkfn destroy ${options.name}, then deploy the version you want.` });
      await deployment.setVersionState(current, 'stopped');
      savepoint = null;
    } else if (current.state === 'running' || current.state === 'starting') {
      if (options.fromScratch) {
        progress(`cancelling version ${current.version}`);
        await cancelJob(session.flink, current.jobId);
        await deployment.setVersionState(current, 'cancelled');
        savepoint = null;
      } else {
        progress(`stopping version ${current.version} with a savepoint`);
        savepoint = await stopWithSavepoint(session.flink, current.jobId, session.store.uri(stateKeys(options.name).savepoints), options.savepointTimeoutMs ?? 60_000);
        await deployment.setVersionState(current, 'stopped', { savepoint });
      }
    }
    progress(`starting version ${previous.version}`);
    await restartVersion(session, deployment, previous, options.fromScratch ? null : savepoint);
    await deployment.finish();
    return { name: options.name, from: current.version, to: previous.version, jobId: previous.jobId, artifactId: previous.artifactId, restoredFrom: previous.restoredFrom };
  } finally {
    await session.close();
  }
}
