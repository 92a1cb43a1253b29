/**
 * Ad-hoc queries: a handler written in the page, built and deployed once as an ephemeral deployment, then
 * running until nobody looks at it any more. Like Testcontainers' reaper, it lives on a lease: every open
 * results stream of the query holds it, and when the last one is gone for `graceMs` (a closed tab, a lost
 * connection) or its panel is closed, it is destroyed through `deployScoped`'s dispose, which is
 * `destroy`: the same record and teardown as `flinkfn destroy`. Its TTL is the backstop for when this
 * server dies without tearing down: the controller releases it when the TTL passes.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deploy, deployScoped, type DeployResult, type ResolvedTarget, type ScopedDeployment } from '@flinkfn/deploy';
import { DashboardError, describe } from './errors.js';

export const QUERY_PREFIX = 'q-';

export interface QueryOptions {
  target: ResolvedTarget;
  /** Project directory: queries are written under `<root>/.flinkfn/queries/`, promoted ones into it. */
  root: string;
  /** How long a query runs without a viewer before it is torn down. */
  graceMs: number;
  /** TTL given to every query deployment (the controller's backstop). */
  ttlMs: number;
  /**
   * Checkpoint interval of query deployments (default: the target's). Results are read read_committed from
   * transactional sinks, so they reach the page when the checkpoint after them completes: a shorter interval
   * shows a query's results sooner, at the cost of more checkpoints while it runs.
   */
  checkpointIntervalMs?: number;
  onEvent?: (event: QueryEvent) => void;
}

export type QueryEvent =
  | { type: 'deployed'; name: string; ms: number }
  | { type: 'closing'; name: string; reason: string }
  | { type: 'closed'; name: string; reason: string; teardownMs: number }
  | { type: 'close-failed'; name: string; error: string };

/** Why a query could not be deployed, for the editor: build diagnostics at their lines, or the failed step. */
export type QueryFailure =
  | { kind: 'build'; message: string; diagnostics: Array<{ line: number | null; column: number | null; message: string; hint: string | null }> }
  | { kind: 'deploy'; step: string | null; message: string; hint: string | null };

export class QueryFailed extends Error {
  constructor(readonly failure: QueryFailure) {
    super(failure.message);
  }
}

interface Query {
  name: string;
  dir: string;
  code: string;
  deployment: ScopedDeployment;
  viewers: number;
  timer: NodeJS.Timeout | undefined;
  closing: Promise<void> | undefined;
}

export class Queries {
  private readonly live = new Map<string, Query>();

  constructor(private readonly options: QueryOptions) {}

  has(name: string): boolean {
    return this.live.has(name);
  }

  names(): string[] {
    return [...this.live.keys()];
  }

  async create(code: string): Promise<{ name: string; deployment: DeployResult }> {
    const name = `${QUERY_PREFIX}${randomBytes(4).toString('hex')}`;
    const dir = path.join(this.options.root, '.flinkfn', 'queries', name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'query.ts'), code);
    const started = performance.now();
    let deployment: ScopedDeployment;
    try {
      const { target, checkpointIntervalMs } = this.options;
      deployment = await deployScoped({ target: checkpointIntervalMs ? { ...target, checkpointIntervalMs } : target, root: dir, entry: 'query.ts', name, ttlMs: this.options.ttlMs });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw new QueryFailed(failureOf(error));
    }
    const query: Query = { name, dir, code, deployment, viewers: 0, timer: undefined, closing: undefined };
    this.live.set(name, query);
    this.options.onEvent?.({ type: 'deployed', name, ms: Math.round(performance.now() - started) });
    // Until its panel opens a stream, nobody holds it: the same grace as a viewer that left.
    this.armGrace(query);
    return { name, deployment };
  }

  /** A viewer holds the query until the returned release is called. */
  hold(name: string): () => void {
    const query = this.live.get(name);
    if (!query) return () => undefined;
    query.viewers++;
    if (query.timer) clearTimeout(query.timer);
    query.timer = undefined;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      query.viewers--;
      if (query.viewers === 0) this.armGrace(query);
    };
  }

  /** Tears the query down now (its panel was closed); resolves when every resource is gone. */
  close(name: string, reason = 'closed'): Promise<void> {
    const query = this.live.get(name);
    if (!query) throw new DashboardError(`no ad-hoc query named "${name}"`, undefined, 404);
    return this.teardown(query, reason);
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.live.values()].map((q) => this.teardown(q, 'dashboard stopped')));
  }

  /** Saves the query as a project file and deploys it as a normal deployment (no TTL, no lease). */
  async promote(name: string, file: string): Promise<{ file: string; deployment: DeployResult }> {
    const query = this.live.get(name);
    if (!query) throw new DashboardError(`no ad-hoc query named "${name}"`, undefined, 404);
    const relative = path.normalize(file);
    if (path.isAbsolute(relative) || relative.startsWith('..') || !relative.endsWith('.ts')) {
      throw new DashboardError(`"${file}" is not a .ts path inside the project`, 'Name a file such as functions/my-query.ts.');
    }
    const target = path.join(this.options.root, relative);
    if (await access(target).then(() => true, () => false)) throw new DashboardError(`${relative} exists already`, 'Pick another file name.', 409);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, query.code);
    try {
      const deployment = await deploy({ target: this.options.target, root: this.options.root, entry: relative });
      return { file: relative, deployment };
    } catch (error) {
      throw new QueryFailed(failureOf(error));
    }
  }

  private armGrace(query: Query): void {
    if (query.timer) clearTimeout(query.timer);
    query.timer = setTimeout(() => void this.teardown(query, `no viewer for ${this.options.graceMs / 1000} s`).catch(() => undefined), this.options.graceMs);
    query.timer.unref();
  }

  private teardown(query: Query, reason: string): Promise<void> {
    if (query.timer) clearTimeout(query.timer);
    query.timer = undefined;
    query.closing ??= (async () => {
      const started = performance.now();
      this.options.onEvent?.({ type: 'closing', name: query.name, reason });
      try {
        await query.deployment.dispose();
      } catch (error) {
        this.options.onEvent?.({ type: 'close-failed', name: query.name, error: describe(error) });
        query.closing = undefined;
        throw error;
      }
      this.live.delete(query.name);
      await rm(query.dir, { recursive: true, force: true });
      this.options.onEvent?.({ type: 'closed', name: query.name, reason, teardownMs: Math.round(performance.now() - started) });
    })();
    return query.closing;
  }
}

function failureOf(error: unknown): QueryFailure {
  if (error instanceof Error && error.name === 'BuildError' && 'diagnostics' in error && Array.isArray(error.diagnostics)) {
    const diagnostics = (error.diagnostics as Array<{ line?: number; column?: number; message: string; hint?: string }>).map((d) => ({
      line: d.line ?? null,
      column: d.column ?? null,
      message: d.message,
      hint: d.hint ?? null,
    }));
    return { kind: 'build', message: error.message, diagnostics };
  }
  const step = error instanceof Error && 'step' in error && typeof error.step === 'string' ? error.step : null;
  const hint = error instanceof Error && 'hint' in error && typeof error.hint === 'string' ? error.hint : null;
  return { kind: 'deploy', step, message: describe(error), hint };
}
