/**
 * Runs a GitHub Actions workflow's `run:` steps on this machine, in order, as the runner would: `${{ }}`
 * expressions substituted (secrets, github context, step outputs), the workflow, job and step `env`, bash with
 * `-eo pipefail`, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. A job's `if:` is evaluated, so the test sees
 * which jobs an event starts. `uses:` steps are not run: the caller stands in for them (checkout: the project
 * folder; setup-node: this machine's Node). Only the expression syntax the workflow uses is understood; anything
 * else is an error, not a guess.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

export interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}

export interface Workflow {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  jobs: Record<string, { if?: string; env?: Record<string, string>; steps: Step[] }>;
}

export interface Contexts {
  github: Record<string, unknown>;
  secrets: Record<string, string>;
}

export interface StepRun {
  job: string;
  step: string;
  status: number | null;
  stdout: string;
  stderr: string;
}

export function readWorkflow(file: string): Workflow {
  return parse(readFileSync(file, 'utf8')) as Workflow;
}

/** The jobs an event starts: those whose `if:` is true. */
export function jobsFor(workflow: Workflow, contexts: Contexts): string[] {
  return Object.entries(workflow.jobs)
    .filter(([, job]) => job.if === undefined || truthy(evaluate(job.if, { ...contexts, steps: {} })))
    .map(([name]) => name);
}

/** Runs the `run:` steps of one job in `cwd`; stops at the first failing step. */
export function runJob(workflow: Workflow, jobName: string, contexts: Contexts, cwd: string, baseEnv: NodeJS.ProcessEnv, allowedActions: string[]): StepRun[] {
  const job = workflow.jobs[jobName];
  if (!job) throw new Error(`no job ${jobName}`);
  const scratch = mkdtempSync(path.join(tmpdir(), 'flinkfn-runner-'));
  const steps: Record<string, { outputs: Record<string, string> }> = {};
  const runs: StepRun[] = [];
  try {
    const scope = () => ({ ...contexts, steps });
    const substituteAll = (env: Record<string, string> | undefined) => Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, substitute(String(v), scope())]));
    const workflowEnv = substituteAll(workflow.env);
    const jobEnv = substituteAll(job.env);
    for (const [index, step] of job.steps.entries()) {
      const label = step.name ?? step.id ?? step.uses ?? `step ${index + 1}`;
      if (step.uses) {
        const action = step.uses.split('@')[0]!;
        if (!allowedActions.includes(action)) throw new Error(`step "${label}" uses ${step.uses}, which this runner does not stand in for`);
        continue;
      }
      const output = path.join(scratch, `output-${index}`);
      const summary = path.join(scratch, 'summary.md');
      writeFileSync(output, '');
      const env = {
        ...baseEnv,
        GITHUB_ACTIONS: 'true',
        GITHUB_EVENT_NAME: String(contexts.github.event_name),
        GITHUB_REF: String(contexts.github.ref),
        GITHUB_REF_NAME: String(contexts.github.ref_name),
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
        ...workflowEnv,
        ...jobEnv,
        ...substituteAll(step.env),
      };
      const script = substitute(step.run ?? '', scope());
      const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env, encoding: 'utf8', timeout: 900_000 });
      runs.push({ job: jobName, step: label, status: result.status, stdout: result.stdout, stderr: result.stderr });
      if (step.id) steps[step.id] = { outputs: parseOutputs(readFileSync(output, 'utf8')) };
      if (result.status !== 0) break;
    }
    return runs;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every `${{ secrets.NAME }}` the workflow mentions. */
export function secretNames(file: string): string[] {
  return [...new Set([...readFileSync(file, 'utf8').matchAll(/\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]!))].sort();
}

function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) outputs[line.slice(0, at)] = line.slice(at + 1);
  }
  return outputs;
}

function substitute(text: string, scope: Record<string, unknown>): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expression: string) => {
    const value = evaluate(expression, scope);
    return value === undefined || value === null ? '' : String(value);
  });
}

type Value = string | number | boolean | null | undefined | object;

/** GitHub's expression syntax, the part this workflow uses: paths, 'strings', true/false, ! == != && || ( ). */
export function evaluate(expression: string, scope: Record<string, unknown>): Value {
  const tokens = expression.match(/'(?:[^']|'')*'|==|!=|&&|\|\||[!()]|[A-Za-z_][A-Za-z0-9_.-]*|\S/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++];
  const or = (): Value => {
    let left = and();
    while (peek() === '||') {
      next();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const and = (): Value => {
    let left = comparison();
    while (peek() === '&&') {
      next();
      const right = comparison();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const comparison = (): Value => {
    let left = unary();
    while (peek() === '==' || peek() === '!=') {
      const op = next();
      const right = unary();
      const same = loose(left) === loose(right);
      left = op === '==' ? same : !same;
    }
    return left;
  };
  const unary = (): Value => {
    if (peek() === '!') {
      next();
      return !truthy(unary());
    }
    return primary();
  };
  const primary = (): Value => {
    const token = next();
    if (token === undefined) throw new Error(`unexpected end of ${expression}`);
    if (token === '(') {
      const value = or();
      if (next() !== ')') throw new Error(`missing ) in ${expression}`);
      return value;
    }
    if (token.startsWith("'")) return token.slice(1, -1).replaceAll("''", "'");
    if (token === 'true' || token === 'false') return token === 'true';
    if (token === 'null') return null;
    if (/^[A-Za-z_]/.test(token)) {
      let value: unknown = scope;
      for (const part of token.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
      return value as Value;
    }
    throw new Error(`this runner does not understand "${token}" in ${expression}`);
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`unexpected "${peek()}" in ${expression}`);
  return value;
}

/** GitHub compares strings case-insensitively and treats a missing property as null. */
function loose(value: Value): Value {
  if (value === undefined) return null;
  return typeof value === 'string' ? value.toLowerCase() : value;
}

function truthy(value: Value): boolean {
  return !(value === undefined || value === null || value === false || value === '' || value === 0);
}
