/**
 * The one way flinkfn talks to a Kubernetes cluster: the `kubectl` program (FLINKFN_KUBECTL, else `kubectl` on
 * PATH), with the user's kubeconfig and context, as a child process. A real executable boundary: flinkfn holds no
 * Kubernetes client and no credentials of its own, and what kubectl is allowed to do is what flinkfn may do.
 * Every call names the namespace; objects are named `<kind>/<name>` as kubectl reads them.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { DeployError } from '../errors.js';
import { parseObjectId, toYaml, type KubernetesObject } from './render.js';

export interface KubectlOptions {
  env?: NodeJS.ProcessEnv;
  /** --context (default: kubeconfig's current context). */
  context?: string;
}

/**
 * The kubectl executable to run: FLINKFN_KUBECTL (a path), else the first `kubectl` on PATH. Throws a DeployError
 * that says what is missing and what to do when there is none, before anything is changed.
 */
export function findKubectl(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.FLINKFN_KUBECTL;
  if (given) {
    if (executable(given)) return given;
    throw new DeployError(`FLINKFN_KUBECTL names "${given}", which is not an executable file`, {
      step: 'connect',
      hint: 'Point FLINKFN_KUBECTL at the kubectl program, or unset it to use the kubectl on PATH.',
    });
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, process.platform === 'win32' ? 'kubectl.exe' : 'kubectl');
    if (executable(candidate)) return candidate;
  }
  throw new DeployError('kubectl is not installed: a Kubernetes target is reached through kubectl, and there is none on PATH', {
    step: 'connect',
    hint: 'Install kubectl (https://kubernetes.io/docs/tasks/tools/) and configure a context for the cluster (kubectl config use-context <name>), or set FLINKFN_KUBECTL to its path. flinkfn render prints the manifests without a cluster.',
  });
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * What kubectl said, for an error message: its last line (kubectl logs client-side retries as lines before the
 * one that says why it gave up).
 */
export function kubectlMessage(stderr: string): string {
  return stderr.trim().split('\n').filter((line) => line.trim() !== '').at(-1)?.trim() ?? '';
}

export class Kubectl {
  private constructor(readonly program: string, private readonly options: KubectlOptions) {}

  /** Finds kubectl (failing clearly without one); does not contact the cluster. */
  static locate(options: KubectlOptions = {}): Kubectl {
    return new Kubectl(findKubectl(options.env ?? process.env), options);
  }

  /** Runs kubectl with `args` (and `input` on stdin); resolves with its output whatever its exit code. */
  run(args: string[], input?: string): Promise<KubectlResult> {
    const full = [...(this.options.context ? ['--context', this.options.context] : []), ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(this.program, full, { env: this.options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.once('error', reject);
      child.once('close', (code) => resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code: code ?? 1 }));
      child.stdin.end(input ?? '');
    });
  }

  /** Runs kubectl and throws a DeployError naming the command and kubectl's own message when it fails. */
  async check(step: string, args: string[], input?: string): Promise<string> {
    const result = await this.run(args, input);
    if (result.code !== 0) {
      throw new DeployError(`kubectl ${args.join(' ')} failed: ${kubectlMessage(result.stderr) || `exit code ${result.code}`}`, {
        step,
        hint: 'kubectl uses your kubeconfig and current context (kubectl config current-context); check that it reaches the cluster and may change these objects in the namespace (docs/kubernetes.md, RBAC).',
      });
    }
    return result.stdout;
  }

  /** `kubectl apply --server-side` of the objects (strict field validation: an unknown field is an error). */
  async apply(objects: KubernetesObject[]): Promise<void> {
    await this.check('apply', ['apply', '--server-side', '--field-manager=flinkfn', '--force-conflicts', '--validate=strict', '-f', '-'], toYaml(objects));
  }

  /** The object's uid (for owner references), or null when it does not exist. */
  async uid(id: string): Promise<string | null> {
    const { kind, namespace, name } = parseObjectId(id);
    const result = await this.run(['get', `${kind}/${name}`, '-n', namespace, '--ignore-not-found', '-o', 'jsonpath={.metadata.uid}']);
    if (result.code !== 0) throw new DeployError(`kubectl get ${kind}/${name} failed: ${kubectlMessage(result.stderr)}`, { step: 'connect' });
    return result.stdout.trim() || null;
  }

  /** A field of the object's status, by JSONPath (`{.status.jobStatus.state}`); null when the object is missing. */
  async field(id: string, jsonPath: string): Promise<string | null> {
    const { kind, namespace, name } = parseObjectId(id);
    const result = await this.run(['get', `${kind}/${name}`, '-n', namespace, '--ignore-not-found', '-o', `jsonpath=${jsonPath}`]);
    if (result.code !== 0) throw new DeployError(`kubectl get ${kind}/${name} failed: ${kubectlMessage(result.stderr)}`, { step: 'wait' });
    return result.stdout === '' ? null : result.stdout;
  }

  /**
   * Deletes the object and waits until it and its dependents are gone (foreground cascade: Kubernetes' garbage
   * collector removes what it owns first). Deleting what is gone already succeeds.
   */
  async delete(id: string, timeoutSeconds = 300): Promise<void> {
    const { kind, namespace, name } = parseObjectId(id);
    await this.check('teardown', ['delete', `${kind}/${name}`, '-n', namespace, '--ignore-not-found', '--cascade=foreground', '--wait=true', `--timeout=${timeoutSeconds}s`]);
  }
}
