/**
 * Removing what a deployment created, in the order that works: jobs first (nothing writes any more),
 * then consumer groups, topics, state prefixes, artifacts. Each removal is idempotent and recorded in
 * the deployment record as it happens, so a crashed teardown resumes where it stopped.
 */
import { failpoint } from '../failpoints.js';
import { artifactKey, Deployment, type ResourceKind, type TrackedResource } from '../registry.js';
import type { Session } from '../session.js';
import { cancelJob } from './jobs.js';

export const TEARDOWN_ORDER: readonly ResourceKind[] = ['flink-job', 'kafka-consumer-group', 'kafka-topic', 's3-prefix', 's3-object'];

export type TeardownAction = 'delete' | 'keep (retain)' | 'keep (used by another deployment)' | 'already gone';

export interface TeardownItem {
  kind: ResourceKind;
  id: string;
  lifecycle: TrackedResource['lifecycle'];
  state: TrackedResource['state'];
  action: TeardownAction;
}

/** What a teardown of `resources` would do, in order, without doing it. */
export async function planTeardown(session: Session, deployment: Deployment, resources: TrackedResource[], deleteRetained = false): Promise<TeardownItem[]> {
  const othersUse = await artifactsUsedElsewhere(session, deployment.name);
  const ordered = [...resources].sort((a, b) => TEARDOWN_ORDER.indexOf(a.kind) - TEARDOWN_ORDER.indexOf(b.kind));
  return ordered.map((r) => ({
    kind: r.kind,
    id: r.id,
    lifecycle: r.lifecycle,
    state: r.state,
    action:
      r.state === 'deleted'
        ? 'already gone'
        : r.kind !== 'flink-job' && r.lifecycle === 'retain' && !deleteRetained
          ? 'keep (retain)'
          : r.kind === 's3-object' && othersUse.has(r.id)
            ? 'keep (used by another deployment)'
            : 'delete',
  }));
}

export interface TeardownOptions {
  /** Names the failpoints (`<prefix>:before-<kind>`). */
  failpointPrefix: string;
  /** Rolling back a deploy removes even `retain` resources: they were created moments ago and hold nothing. */
  deleteRetained?: boolean;
  onItem?: (item: TeardownItem) => void;
}

/** Deletes the resources (jobs are cancelled); returns the items with what was done. */
export async function teardown(session: Session, deployment: Deployment, resources: TrackedResource[], options: TeardownOptions): Promise<TeardownItem[]> {
  const plan = await planTeardown(session, deployment, resources, options.deleteRetained);
  for (const item of plan) {
    const resource = deployment.resource(item.kind, item.id);
    if (!resource || item.action === 'already gone') continue;
    if (item.action === 'delete') {
      failpoint(`${options.failpointPrefix}:before-${item.kind}`);
      await deleteOne(session, resource);
      await deployment.mark(resource, 'deleted');
    } else if (item.action === 'keep (used by another deployment)') {
      // Another deployment tracks it; this one just forgets it.
      await deployment.mark(resource, 'deleted');
    }
    options.onItem?.(item);
  }
  return plan;
}

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
  }
}

/** Artifact keys that other deployments in the same bucket still list. */
async function artifactsUsedElsewhere(session: Session, name: string): Promise<Set<string>> {
  const used = new Set<string>();
  for (const other of await Deployment.list(session.store)) {
    if (other.name === name) continue;
    for (const r of other.live('s3-object')) used.add(r.id);
    for (const v of other.record.versions) used.add(artifactKey(v.artifactId));
  }
  return used;
}
