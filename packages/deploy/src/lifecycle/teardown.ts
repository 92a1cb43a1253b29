/**
 * Removing what a deployment created, in the order that works: jobs first (nothing writes any more),
 * then consumer groups, topics, state prefixes, artifacts. Topics and artifacts are shared: the deployment
 * detaches from them, and the last detach deletes them if flinkfn created them (leases.ts). Each step is
 * idempotent and recorded in the deployment record as it happens, so a crashed teardown resumes where it
 * stopped.
 */
import { failpoint } from '../failpoints.js';
import type { DetachOutcome, SharedKind } from '../leases.js';
import type { Deployment, ResourceKind, TrackedResource } from '../registry.js';
import type { Session } from '../session.js';
import { cancelJob } from './jobs.js';

/** Kubernetes objects right after jobs: a FlinkDeployment or FlinkSessionJob is the job on a Kubernetes target. */
export const TEARDOWN_ORDER: readonly ResourceKind[] = ['flink-job', 'kubernetes-object', 'kafka-consumer-group', 'kafka-topic', 's3-prefix', 's3-object'];

/**
 * The order a teardown goes in: by kind (TEARDOWN_ORDER), and among Kubernetes objects owners before what they
 * own, since deleting an owner (foreground) makes the cluster delete its dependents first, and a job must stop
 * before what it reads (the artifact ConfigMap) goes.
 */
export function teardownOrder(resources: TrackedResource[]): TrackedResource[] {
  const depth = (r: TrackedResource): number => (r.ownedBy ? 1 : 0);
  return [...resources].sort((a, b) => TEARDOWN_ORDER.indexOf(a.kind) - TEARDOWN_ORDER.indexOf(b.kind) || depth(a) - depth(b));
}

export type TeardownAction =
  | 'delete'
  | 'delete (last user)'
  | 'detach (used by another deployment)'
  | 'detach (not created by flinkfn)'
  | 'keep (retain)'
  | 'already gone';

export interface TeardownItem {
  kind: ResourceKind;
  id: string;
  lifecycle: TrackedResource['lifecycle'];
  state: TrackedResource['state'];
  action: TeardownAction;
  /** Other deployments attached to a shared resource. */
  attached?: string[];
}

/** What a teardown of `resources` would do, in order, without doing it. */
export async function planTeardown(session: Session, deployment: Deployment, resources: TrackedResource[], deleteRetained = false): Promise<TeardownItem[]> {
  const ordered = teardownOrder(resources);
  const items: TeardownItem[] = [];
  for (const r of ordered) {
    const base = { kind: r.kind, id: r.id, lifecycle: r.lifecycle, state: r.state };
    if (r.state === 'deleted') items.push({ ...base, action: 'already gone' });
    else if (r.shared && (r.kind === 'kafka-topic' || r.kind === 's3-object')) items.push({ ...base, ...(await planDetach(session, deployment.name, r.kind, r.id)) });
    else if (r.kind !== 'flink-job' && r.lifecycle === 'retain' && !deleteRetained) items.push({ ...base, action: 'keep (retain)' });
    else items.push({ ...base, action: 'delete' });
  }
  return items;
}

async function planDetach(session: Session, name: string, kind: SharedKind, id: string): Promise<Pick<TeardownItem, 'action' | 'attached'>> {
  const found = await session.leases.read(kind, id);
  if (!found || !found.lease.holders.some((h) => h.deployment === name)) return { action: 'already gone' };
  const others = [...new Set(found.lease.holders.filter((h) => h.deployment !== name).map((h) => h.deployment))];
  if (others.length > 0) return { action: 'detach (used by another deployment)', attached: others };
  if (!found.lease.createdByFlinkfn) return { action: 'detach (not created by flinkfn)' };
  return { action: found.lease.lifecycle === 'retain' ? 'keep (retain)' : 'delete (last user)' };
}

export interface TeardownOptions {
  /** Names the failpoints (`<prefix>:before-<kind>`). */
  failpointPrefix: string;
  /** Rolling back a deploy removes even `retain` resources it owns alone: they were created moments ago and hold nothing. */
  deleteRetained?: boolean;
  onItem?: (item: TeardownItem) => void;
}

/** Deletes the resources (jobs are cancelled, shared ones detached); returns the items with what was done. */
export async function teardown(session: Session, deployment: Deployment, resources: TrackedResource[], options: TeardownOptions): Promise<TeardownItem[]> {
  const plan = await planTeardown(session, deployment, resources, options.deleteRetained);
  const done: TeardownItem[] = [];
  for (const item of plan) {
    const resource = deployment.resource(item.kind, item.id);
    if (!resource || resource.state === 'deleted') {
      done.push(item);
      continue;
    }
    failpoint(`${options.failpointPrefix}:before-${item.kind}`);
    let result = item;
    if (resource.shared && (resource.kind === 'kafka-topic' || resource.kind === 's3-object')) {
      // The plan was a prediction; the lease decides at the moment of the detach.
      const outcome = await session.leases.detach(resource.kind, resource.id, deployment.name, { discardRetained: options.deleteRetained === true });
      result = { ...item, action: DETACHED[outcome] };
      await deployment.mark(resource, 'deleted');
    } else if (item.action === 'delete') {
      await deleteOne(session, resource);
      await deployment.mark(resource, 'deleted');
    }
    done.push(result);
    options.onItem?.(result);
  }
  return done;
}

const DETACHED: Record<DetachOutcome, TeardownAction> = {
  'not attached': 'already gone',
  detached: 'detach (used by another deployment)',
  deleted: 'delete (last user)',
  released: 'detach (not created by flinkfn)',
  'kept (retain)': 'keep (retain)',
};

async function deleteOne(session: Session, resource: TrackedResource): Promise<void> {
  switch (resource.kind) {
    case 'flink-job':
      await cancelJob(session.flink, resource.id);
      return;
    case 'kafka-consumer-group':
      await (await session.kafka()).deleteGroup(resource.id);
      return;
    case 'kafka-topic':
      await (await session.kafka()).deleteTopic(resource.id);
      return;
    case 's3-prefix':
      await session.store.deletePrefix(resource.id);
      return;
    case 's3-object':
      await session.store.delete(resource.id);
      return;
    case 'kubernetes-object':
      // Foreground: returns once the object and what it owns are gone (a FlinkDeployment: its pods, so its job).
      await session.kubectl().delete(resource.id);
      return;
  }
}

/**
 * Releases everything a deployment still holds, then its record: the end of `destroy`, of the controller's
 * destructor and of `gc`. After an ending the controller did not get asked for, a record that still lists
 * `retain` resources stays (with its `ended`), so that `ls --all` shows what outlived the function.
 */
export async function releaseDeployment(session: Session, deployment: Deployment, options: TeardownOptions & { keepRecordWithRetained?: boolean }): Promise<TeardownItem[]> {
  const items = await teardown(session, deployment, deployment.live(), options);
  failpoint(`${options.failpointPrefix}:before-record`);
  if (options.keepRecordWithRetained && deployment.live().length > 0) await deployment.finish();
  else await deployment.remove();
  return items;
}
