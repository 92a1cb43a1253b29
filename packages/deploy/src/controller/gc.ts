/**
 * `flinkfn gc`: releases what no destructor handled. One controller pass (ended, expired, lost deployments and
 * abandoned operations), then what carries flinkfn's marks but is in no record:
 * - leases held by deployments that have no record (their holders are detached, which deletes the resource
 *   at the last detach when flinkfn created it), and leases stuck half way by a dead writer;
 * - Flink jobs named `flinkfn: <name> …` that run although no record lists them;
 * - `deployments/<name>/` state prefixes and `flinkfn-<name>` consumer groups of names without a record;
 * - artifacts under `artifacts/` without a lease.
 * Safe while deploys run: a record is written before anything of its deployment exists, and every orphan is
 * checked against the record again right before it is removed; live deployments and running operations are
 * left alone.
 */
import type { ResolvedTarget } from '../config.js';
import { TERMINAL_JOB_STATES } from '../clients/flink.js';
import { describe } from '../errors.js';
import { LEASE_PREFIX } from '../leases.js';
import { Deployment, REGISTRY_PREFIX, registryKey } from '../registry.js';
import { openSession, type Session } from '../session.js';
import { cancelJob } from '../lifecycle/jobs.js';
import { LABELS } from '../kubernetes/render.js';
import { ControllerMemory, reconcile, type ControllerEvent } from './reconcile.js';

export interface GcItem {
  kind: 'deployment' | 'lease' | 'flink-job' | 'kubernetes-object' | 's3-prefix' | 's3-object' | 'kafka-consumer-group';
  id: string;
  reason: string;
  action: string;
}

export interface GcOptions {
  target: ResolvedTarget;
  dryRun?: boolean;
  /** Operations older than this, of processes on other hosts, count as abandoned (default 10 min). */
  abandonedAfterMs?: number;
  onItem?: (item: GcItem) => void;
}

export interface GcResult {
  dryRun: boolean;
  items: GcItem[];
}

const JOB_NAME = /^flinkfn: ([a-z][a-z0-9-]{0,62})(?: v\d+)?$/;

export async function gc(options: GcOptions): Promise<GcResult> {
  const session = await openSession(options.target, { startLocal: false });
  const items: GcItem[] = [];
  const add = (item: GcItem): void => {
    items.push(item);
    options.onItem?.(item);
  };
  try {
    const events = await reconcile(session, new ControllerMemory(), {
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.abandonedAfterMs !== undefined ? { abandonedAfterMs: options.abandonedAfterMs } : {}),
    });
    for (const event of events) add(fromEvent(event));
    await orphans(session, options.dryRun ?? false, add);
    return { dryRun: options.dryRun ?? false, items };
  } finally {
    await session.close();
  }
}

/** flinkfn's objects in the target's namespace, by the labels the renderer gives them (kubernetes/render.ts). */
async function labelledObjects(session: Session): Promise<Array<{ id: string; deployment: string }>> {
  const namespace = session.target.kubernetes!.namespace;
  const out = await session.kubectl().check('gc', [
    'get', 'flinkdeployments.flink.apache.org,flinksessionjobs.flink.apache.org,configmaps', '-n', namespace,
    '-l', `${LABELS.managedBy}=flinkfn,${LABELS.deployment}`,
    '-o', `jsonpath={range .items[*]}{.kind}/{.metadata.name}/{.metadata.labels.${LABELS.deployment.replaceAll('.', '\\.')}}{"\\n"}{end}`,
  ]);
  return out.split('\n').filter(Boolean).map((line) => {
    const [kind, name, deployment] = line.split('/');
    return { id: `${kind}/${namespace}/${name}`, deployment: deployment! };
  });
}

function fromEvent(event: ControllerEvent): GcItem {
  return { kind: 'deployment', id: event.deployment, reason: event.reason, action: event.action === 'error' ? `failed: ${event.detail}` : event.detail };
}

async function orphans(session: Session, dryRun: boolean, add: (item: GcItem) => void): Promise<void> {
  const { store } = session;
  const hasRecord = async (name: string): Promise<boolean> => (await store.exists(registryKey(name)));
  // Listed before the records, so that anything created after this point has its record already.
  const objects = await store.list('');
  const names = new Set((await store.list(REGISTRY_PREFIX)).filter((k) => k.endsWith('.json')).map((k) => k.slice(REGISTRY_PREFIX.length, -'.json'.length)));

  for (const lease of await session.leases.list()) {
    for (const holder of lease.holders) {
      if (names.has(holder.deployment) || (await hasRecord(holder.deployment))) continue;
      const item = { kind: 'lease' as const, id: `${lease.kind} ${lease.id}`, reason: `held by "${holder.deployment}", which has no deployment record` };
      if (dryRun) add({ ...item, action: 'would detach' });
      else add({ ...item, action: await session.leases.detach(lease.kind, lease.id, holder.deployment) });
    }
    if (lease.state !== 'live' && session.leases.isStale(lease)) {
      const item = { kind: 'lease' as const, id: `${lease.kind} ${lease.id}`, reason: `left ${lease.state} by pid ${lease.writer.pid} on ${lease.writer.host}` };
      if (dryRun) add({ ...item, action: 'would finish' });
      else add({ ...item, action: await session.leases.repair(lease.kind, lease.id) });
    }
  }

  // On Kubernetes the jobs are the operator's objects: those labelled with a deployment that no record lists.
  if (session.target.kind === 'kubernetes') {
    for (const object of await labelledObjects(session)) {
      const record = await Deployment.load(store, object.deployment);
      if (record && record.live('kubernetes-object').some((r) => r.id === object.id)) continue;
      const item = { kind: 'kubernetes-object' as const, id: object.id, reason: `labelled for "${object.deployment}", but no deployment record lists it` };
      if (dryRun) add({ ...item, action: 'would delete' });
      else {
        await session.kubectl().delete(object.id);
        add({ ...item, action: 'deleted' });
      }
    }
  }
  // Not on Kubernetes: there a job belongs to its FlinkDeployment or FlinkSessionJob (swept above), and cancelling
  // it would only make the operator report it cancelled.
  for (const job of session.target.kind === 'kubernetes' ? [] : await session.flink.jobs()) {
    const match = JOB_NAME.exec(job.name);
    if (!match || TERMINAL_JOB_STATES.has(job.state)) continue;
    const record = await Deployment.load(store, match[1]!);
    if (record && record.live('flink-job').some((r) => r.id === job.jid)) continue;
    const item = { kind: 'flink-job' as const, id: job.jid, reason: `"${job.name}" is ${job.state} but no deployment record lists it` };
    if (dryRun) add({ ...item, action: 'would cancel' });
    else {
      await cancelJob(session.flink, job.jid);
      add({ ...item, action: 'cancelled' });
    }
  }

  const prefixes = new Set(objects.filter((k) => k.startsWith('deployments/')).map((k) => k.split('/')[1]!));
  for (const name of prefixes) {
    if (names.has(name) || (await hasRecord(name))) continue;
    const item = { kind: 's3-prefix' as const, id: `deployments/${name}/`, reason: `state of "${name}", which has no deployment record` };
    if (dryRun) add({ ...item, action: 'would delete' });
    else add({ ...item, action: `deleted ${await store.deletePrefix(`deployments/${name}/`)} objects` });
  }

  const leased = new Set((await store.list(`${LEASE_PREFIX}s3-object/`)).map((k) => decodeURIComponent(k.slice(`${LEASE_PREFIX}s3-object/`.length, -'.json'.length))));
  for (const key of objects.filter((k) => k.startsWith('artifacts/'))) {
    if (leased.has(key) || (await session.leases.read('s3-object', key))) continue;
    const item = { kind: 's3-object' as const, id: key, reason: 'an artifact no deployment holds' };
    if (dryRun) add({ ...item, action: 'would delete' });
    else {
      await store.delete(key);
      add({ ...item, action: 'deleted' });
    }
  }

  const admin = await session.kafka();
  for (const group of await admin.listGroups()) {
    const match = /^flinkfn-(.+)$/.exec(group.groupId);
    if (!match || !group.empty) continue;
    const name = match[1]!;
    // `flinkfn tail` and the tests' readers use flinkfn-tail-*/flinkfn-test-* groups: empty ones are leftovers.
    const transient = /^(tail|test)-/.test(name);
    if (!transient && (names.has(name) || (await hasRecord(name)))) continue;
    const item = { kind: 'kafka-consumer-group' as const, id: group.groupId, reason: transient ? 'an empty reader group' : `offsets of "${name}", which has no deployment record` };
    if (dryRun) add({ ...item, action: 'would delete' });
    else {
      const action = await admin.deleteGroup(group.groupId).then(() => 'deleted', (error: unknown) => `failed: ${describe(error)}`);
      add({ ...item, action });
    }
  }
}
