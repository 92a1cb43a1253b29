/**
 * The Kubernetes renderer against what a cluster would check, without a cluster: the operator's published CRD
 * schemas (vendored from apache/flink-kubernetes-operator, fixtures/kubernetes/NOTICE.md) with unknown fields refused
 * (as the API server's strict field validation refuses them), Kubernetes' required pod fields and naming rules, and
 * golden manifests for each mode (`FLINKFN_UPDATE_GOLDEN=1` rewrites them; review the diff).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { loadTarget } from '../src/config.js';
import type { ResolvedTarget } from '../src/config.js';
import type { DeploymentVersion } from '../src/registry.js';
import { renderFunction, renderSessionCluster, toYaml, objectId, type KubernetesObject, SIDECAR_SOCKET } from '../src/kubernetes/render.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures', 'kubernetes');
const test = suite('kubernetes manifests');

type Schema = Record<string, unknown>;

/**
 * A CRD's openAPIV3Schema as a JSON Schema for ajv. Kubernetes prunes unknown fields of a structural schema, and
 * `kubectl apply` (server-side strict field validation, the default since Kubernetes 1.27) refuses them; so every
 * object with `properties` and no `x-kubernetes-preserve-unknown-fields` gets `additionalProperties: false`, and a
 * misspelt field fails here as it would on apply.
 */
function strict(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') out[key] = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, strict(v)]));
    else if (key === 'items' || key === 'additionalProperties') out[key] = typeof value === 'object' ? strict(value as Schema) : value;
    else if (key === 'anyOf' || key === 'allOf' || key === 'oneOf') out[key] = (value as Schema[]).map(strict);
    else out[key] = value;
  }
  if (schema.properties && schema['x-kubernetes-preserve-unknown-fields'] !== true && schema.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/**
 * Kubernetes' own rules for the pod template parts flinkfn writes, which the CRD (generated without `required`)
 * does not carry: from the core/v1 API (Container, Volume, VolumeMount, KeyToPath and EnvVar list these fields as
 * required in Kubernetes' OpenAPI document), plus the API server's validation of names (DNS-1123 labels) and of a
 * native sidecar (an init container's restartPolicy may only be Always). Transcribed, not generated.
 */
function checkPodTemplate(pod: { spec?: Record<string, unknown> } | undefined, where: string): string[] {
  const problems: string[] = [];
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const spec = pod?.spec ?? {};
  const volumes = (spec.volumes as Array<Record<string, unknown>> | undefined) ?? [];
  for (const [i, v] of volumes.entries()) {
    if (typeof v.name !== 'string' || !label.test(v.name)) problems.push(`${where}.volumes[${i}].name`);
    const items = ((v.configMap as { items?: Array<Record<string, unknown>> } | undefined)?.items) ?? [];
    for (const [j, item] of items.entries()) if (typeof item.key !== 'string' || typeof item.path !== 'string') problems.push(`${where}.volumes[${i}].configMap.items[${j}]`);
  }
  const names = new Set(volumes.map((v) => v.name));
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, c] of ((spec[list] as Array<Record<string, unknown>> | undefined) ?? []).entries()) {
      const at = `${where}.${list}[${i}]`;
      if (typeof c.name !== 'string' || !label.test(c.name)) problems.push(`${at}.name`);
      if (list === 'containers' && c.restartPolicy !== undefined) problems.push(`${at}.restartPolicy (only init containers have one)`);
      if (list === 'initContainers' && c.restartPolicy !== undefined && c.restartPolicy !== 'Always') problems.push(`${at}.restartPolicy must be Always`);
      for (const [j, m] of ((c.volumeMounts as Array<Record<string, unknown>> | undefined) ?? []).entries()) {
        if (typeof m.name !== 'string' || typeof m.mountPath !== 'string') problems.push(`${at}.volumeMounts[${j}] needs name and mountPath`);
        else if (!names.has(m.name)) problems.push(`${at}.volumeMounts[${j}]: no volume "${m.name}"`);
      }
      for (const [j, e] of ((c.env as Array<Record<string, unknown>> | undefined) ?? []).entries()) if (typeof e.name !== 'string') problems.push(`${at}.env[${j}].name`);
    }
  }
  return problems;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
function crdValidator(file: string): ValidateFunction {
  const crd = parse(readFileSync(path.join(fixtures, file), 'utf8')) as { spec: { group: string; names: { kind: string }; versions: Array<{ name: string; served: boolean; schema: { openAPIV3Schema: Schema } }> } };
  const version = crd.spec.versions.find((v) => v.name === 'v1beta1' && v.served);
  assert.ok(version, `${file} serves v1beta1`);
  const root = strict(version.schema.openAPIV3Schema);
  // What every object has besides its CRD's schema (the API server checks these itself).
  root.properties = {
    ...(root.properties as Record<string, Schema>),
    apiVersion: { const: `${crd.spec.group}/${version.name}` },
    kind: { const: crd.spec.names.kind },
    metadata: { type: 'object' },
  };
  root.required = ['apiVersion', 'kind', 'metadata', 'spec'];
  return ajv.compile(root);
}
const validators: Record<string, ValidateFunction> = {
  FlinkDeployment: crdValidator('flinkdeployments.flink.apache.org-v1.yml'),
  FlinkSessionJob: crdValidator('flinksessionjobs.flink.apache.org-v1.yml'),
};

/** Every problem the CRD schemas and Kubernetes' rules find in the objects; empty when all is well. */
function problemsOf(objects: KubernetesObject[]): string[] {
  const problems: string[] = [];
  const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  for (const o of objects) {
    const id = objectId(o);
    if (!dns1123.test(o.metadata.name) || o.metadata.name.length > 253) problems.push(`${id}: metadata.name`);
    for (const [key, value] of Object.entries(o.metadata.labels)) if (value.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value)) problems.push(`${id}: label ${key}`);
    if (o.kind === 'ConfigMap') {
      if (o.apiVersion !== 'v1') problems.push(`${id}: apiVersion`);
      for (const key of Object.keys(o.binaryData ?? {})) if (!/^[-._a-zA-Z0-9]+$/.test(key)) problems.push(`${id}: key ${key}`);
      continue;
    }
    const validate = validators[o.kind];
    if (!validate) {
      problems.push(`${id}: no schema for ${o.kind}`);
      continue;
    }
    if (!validate(o)) problems.push(...(validate.errors ?? []).map((e) => `${id}${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`));
    const spec = o.spec as { podTemplate?: object; taskManager?: { podTemplate?: object }; jobManager?: { podTemplate?: object } };
    problems.push(...checkPodTemplate(spec.podTemplate, `${id} spec.podTemplate`));
    problems.push(...checkPodTemplate(spec.taskManager?.podTemplate, `${id} spec.taskManager.podTemplate`));
  }
  return problems;
}

const artifactBytes = Buffer.from('{"format":"flinkfn-artifact","note":"a stand-in artifact for rendering"}\n');
const artifactId = createHash('sha256').update(artifactBytes).digest('hex');

function version(extra: Partial<DeploymentVersion> = {}): DeploymentVersion {
  return {
    version: 2, artifactId, jobId: '0123456789abcdef0123456789abcdef', state: 'starting', restoredFrom: null, savepoint: null,
    deployedAt: '2026-12-03T12:00:00.000Z', entry: 'src/clicks.ts', maxRestarts: 5, parallelism: 2, settings: { region: 'eu' },
    secrets: { object: 'deployments/clicks/secrets/v2.json', sha256: 'ab'.repeat(32), names: ['API_TOKEN'] }, ...extra,
  };
}

async function target(mode: 'application' | 'session'): Promise<ResolvedTarget> {
  const config = {
    targets: {
      k8s: {
        kind: 'kubernetes', namespace: 'flink', mode, image: 'registry.example.com/flinkfn-flink:0.1.0',
        ...(mode === 'session' ? { sessionDeployment: 'flinkfn-session', runtimeJar: 's3://flinkfn-prod/team-a/runtime/flinkfn-runtime-0123456789abcdef.jar' } : {}),
        kafka: { brokers: ['kafka-0.kafka:9093'], tls: true, sasl: { mechanism: 'scram-sha-512' } },
        s3: { bucket: 'flinkfn-prod', region: 'eu-west-1', prefix: 'team-a/' },
        flinkConfiguration: { 's3.endpoint': 'https://s3.eu-west-1.amazonaws.com' },
        envSecret: 'flinkfn-credentials',
        ...(mode === 'session' ? { upgradeMode: 'last-state' } : {}),
      },
    },
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'flinkfn-k8s-render-'));
  try {
    writeFileSync(path.join(dir, 'flinkfn.config.json'), JSON.stringify(config));
    return await loadTarget({ cwd: dir, target: 'k8s', env: {} });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function golden(name: string, text: string): void {
  const file = path.join(here, 'golden', 'kubernetes', name);
  if (process.env.FLINKFN_UPDATE_GOLDEN === '1') writeFileSync(file, text);
  assert.fixture(text, readFileSync(file, 'utf8'), `${name} (FLINKFN_UPDATE_GOLDEN=1 rewrites it)`);
}

test('application mode: the FlinkDeployment with its native sidecar and the artifact ConfigMap it owns validate and match the golden', async () => {
  const t = await target('application');
  const objects = renderFunction({ target: t, name: 'clicks', functionName: 'clicks', version: version(), artifactBytes, jarUri: t.kubernetes!.runtimeJar, ownerUid: '6f1c2d3e-0000-4000-8000-000000000001' });
  assert.equal(problemsOf(objects), []);
  assert.equal(objects.map(objectId), ['FlinkDeployment/flink/clicks', `ConfigMap/flink/clicks-artifact-${artifactId.slice(0, 12)}`]);
  const [deployment, configMap] = objects as [KubernetesObject, KubernetesObject];
  const tm = (deployment.spec as { taskManager: { podTemplate: { spec: { initContainers: Array<Record<string, unknown>>; containers: Array<Record<string, unknown>> } } } }).taskManager.podTemplate.spec;
  const sidecar = tm.initContainers[0]!;
  assert.is(sidecar.restartPolicy, 'Always', 'a native sidecar: restarted when it crashes');
  assert.equal(sidecar.command, ['node', '/opt/flinkfn/node_modules/@flinkfn/sidecar/bin/flinkfn-sidecar.js', '--artifact', `/opt/flinkfn/artifact/${artifactId}.flinkfn`, '--socket', SIDECAR_SOCKET, '--external']);
  const args = (deployment.spec as { job: { args: string[] } }).job.args;
  assert.equal(args.slice(args.indexOf('--sidecar-socket'), args.indexOf('--sidecar-socket') + 2), ['--sidecar-socket', SIDECAR_SOCKET]);
  assert.not.ok(args.includes('--sidecar-command'), 'the job does not start sidecars of its own');
  assert.equal(configMap.metadata.ownerReferences, [{ apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: 'clicks', uid: '6f1c2d3e-0000-4000-8000-000000000001', blockOwnerDeletion: true }]);
  assert.is(Buffer.from(configMap.binaryData![`${artifactId}.flinkfn`]!, 'base64').toString(), artifactBytes.toString(), 'the ConfigMap carries the artifact unchanged');
  const config = (deployment.spec as { flinkConfiguration: Record<string, string> }).flinkConfiguration;
  assert.is(config['execution.checkpointing.dir'], 's3://flinkfn-prod/team-a/deployments/clicks/checkpoints/');
  assert.is(config['execution.checkpointing.savepoint-dir'], 's3://flinkfn-prod/team-a/deployments/clicks/savepoints/');
  assert.is(config['restart-strategy.fixed-delay.attempts'], '5');
  assert.not.match(JSON.stringify(objects), 'API_TOKEN=', 'no secret value, only the secrets object');
  golden('application.yaml', toYaml(objects));
});

test('session mode: a FlinkSessionJob owned by the session FlinkDeployment, whose TaskManagers start a sidecar per subtask; both validate', async () => {
  const t = await target('session');
  const objects = renderFunction({ target: t, name: 'clicks', functionName: 'clicks', version: version(), artifactBytes, jarUri: t.kubernetes!.runtimeJar, ownerUid: '6f1c2d3e-0000-4000-8000-000000000002', initialSavepoint: 's3://flinkfn-prod/team-a/deployments/clicks/savepoints/savepoint-1', allowNonRestoredState: true });
  const cluster = renderSessionCluster(t);
  assert.equal(problemsOf([...objects, cluster]), []);
  assert.equal(objects.map(objectId), ['FlinkSessionJob/flink/clicks']);
  const job = (objects[0]!.spec as { deploymentName: string; job: { args: string[]; initialSavepointPath: string; upgradeMode: string } });
  assert.is(job.deploymentName, 'flinkfn-session');
  assert.is(job.job.upgradeMode, 'last-state');
  assert.is((objects[0]!.spec as { flinkConfiguration: Record<string, string> }).flinkConfiguration['high-availability.type'], undefined, 'HA is the session cluster\'s');
  assert.is((cluster.spec as { flinkConfiguration: Record<string, string> }).flinkConfiguration['high-availability.storageDir'], 's3://flinkfn-prod/team-a/session-clusters/flinkfn-session/ha/');
  assert.is(job.job.args[job.job.args.indexOf('--sidecar-command') + 1], 'node /opt/flinkfn/node_modules/@flinkfn/sidecar/bin/flinkfn-sidecar.js');
  assert.is(job.job.args[job.job.args.indexOf('--artifact') + 1], `s3://flinkfn-prod/team-a/artifacts/${artifactId}.flinkfn`);
  assert.is(objects[0]!.metadata.ownerReferences?.[0]?.name, 'flinkfn-session');
  golden('session-job.yaml', toYaml(objects));
  golden('session-cluster.yaml', toYaml([cluster]));
});

test('a dry run renders without owner references; the YAML reads back to the same objects', async () => {
  const t = await target('application');
  const objects = renderFunction({ target: t, name: 'clicks', functionName: 'clicks', version: version({ maxRestarts: null, parallelism: null, settings: {}, secrets: null }), artifactBytes, jarUri: t.kubernetes!.runtimeJar });
  assert.equal(problemsOf(objects), []);
  assert.is(objects[1]!.metadata.ownerReferences, undefined);
  assert.equal(parseAllDocuments(toYaml(objects)).map((d) => d.toJS() as unknown), JSON.parse(JSON.stringify(objects)));
});

test('the validation can fail: a misspelt field, a wrong upgrade mode and a sidecar without a volume are each found', async () => {
  const t = await target('application');
  const [deployment] = renderFunction({ target: t, name: 'clicks', functionName: 'clicks', version: version(), artifactBytes, jarUri: t.kubernetes!.runtimeJar });
  const misspelt = structuredClone(deployment!) as KubernetesObject & { spec: { job: Record<string, unknown> } };
  misspelt.spec.job.jarUri = misspelt.spec.job.jarURI;
  assert.match(problemsOf([misspelt]).join('\n'), '/spec/job: must NOT have additional properties {"additionalProperty":"jarUri"}');
  const mode = structuredClone(deployment!) as KubernetesObject & { spec: { job: Record<string, unknown> } };
  mode.spec.job.upgradeMode = 'checkpoint';
  assert.match(problemsOf([mode]).join('\n'), '/spec/job/upgradeMode: must be equal to one of the allowed values');
  const noVolume = structuredClone(deployment!) as KubernetesObject & { spec: { taskManager: { podTemplate: { spec: { volumes: unknown[] } } } } };
  noVolume.spec.taskManager.podTemplate.spec.volumes = [];
  assert.match(problemsOf([noVolume]).join('\n'), 'no volume "flinkfn-socket"');
});

test('what cannot be rendered is said before anything is applied: a long name, an artifact that is not its id, a local target', async () => {
  const t = await target('application');
  const render = (extra: Partial<Parameters<typeof renderFunction>[0]>): Error => {
    try {
      renderFunction({ target: t, name: 'clicks', functionName: 'clicks', version: version(), artifactBytes, jarUri: t.kubernetes!.runtimeJar, ...extra });
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected an error');
  };
  assert.match(render({ name: 'a'.repeat(46) }).message, 'too long to name a FlinkDeployment (46 characters; at most 45)');
  assert.match(render({ artifactBytes: Buffer.from('changed') }).message, "the artifact's bytes do not match its id");
  const local = await loadTarget({ cwd: here, target: 'local', env: { HOME: here } });
  assert.match(render({ target: local }).message, 'is a local target, not a Kubernetes one');
});

test.run();
