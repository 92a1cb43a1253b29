/**
 * The CI workflow `flinkfn init` writes (templates/_ci/flinkfn-deploy.yml), run step by step on this machine:
 * its `run:` steps in order, with the local registry standing in for npm and the real local stack (Flink,
 * Kafka, S3Proxy) standing in for the target its secrets name. Three events: a push to the default branch
 * (deploys the function), a push to a feature branch (deploys a preview with a TTL) and the deletion of that
 * branch (destroys the preview, and only the preview).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { useStack } from '../../deploy/test/support/stack.js';
import { leftovers } from '../../deploy/test/support/inspect.js';
import { FlinkClient } from '../../deploy/src/index.js';
import { REPO, useRegistry } from './support/registry.js';
import { ok, useUser } from './support/user.js';
import { jobsFor, readWorkflow, runJob, secretNames, type Contexts, type StepRun } from './support/workflow.js';

const WORKFLOW = path.join(REPO, 'templates', '_ci', 'flinkfn-deploy.yml');
const STAND_INS = ['actions/checkout', 'actions/setup-node'];

const test = suite('the CI workflow');
const registry = useRegistry(test);
const stack = useStack(test);
const user = useUser(test, registry);

function github(event: 'push' | 'delete', branch: string): Contexts['github'] {
  const repository = { default_branch: 'main' };
  return event === 'push'
    ? { event_name: 'push', ref: `refs/heads/${branch}`, ref_name: branch, event: { ref: `refs/heads/${branch}`, deleted: false, repository } }
    : { event_name: 'delete', ref: 'refs/heads/main', ref_name: 'main', event: { ref: branch, ref_type: 'branch', repository } };
}

function passed(runs: StepRun[], what: string): StepRun[] {
  const failed = runs.find((r) => r.status !== 0);
  assert.not.ok(failed, failed && `${what}: step "${failed.step}" failed (exit ${failed.status}):\n${failed.stdout}\n${failed.stderr}`);
  return runs;
}

test('push to main deploys, push to a branch deploys a preview with a TTL, deleting the branch destroys the preview', async () => {
  const { home, run, env } = user();
  ok(run('npm', ['create', 'flinkfn@latest', 'ci-fn'], home), 'npm create flinkfn@latest ci-fn');
  const project = path.join(home, 'ci-fn');
  const workflowFile = path.join(project, '.github', 'workflows', 'flinkfn-deploy.yml');
  assert.ok(existsSync(workflowFile), 'init wrote the workflow');
  assert.is(readFileSync(workflowFile, 'utf8'), readFileSync(WORKFLOW, 'utf8'));
  const workflow = readWorkflow(workflowFile);

  // The stack as a remote target, named only by the secrets (the local broker is PLAINTEXT, so TLS is false
  // and the SASL secrets are unset, which GitHub passes as empty strings).
  const { target } = stack();
  const sidecar = path.join(project, 'node_modules', '@flinkfn', 'sidecar', 'bin', 'flinkfn-sidecar.js');
  const secrets: Record<string, string> = {
    FLINKFN_FLINK_URL: target.flinkUrl,
    FLINKFN_KAFKA_BROKERS: target.kafka.brokers.join(','),
    FLINKFN_KAFKA_TLS: 'false',
    FLINKFN_KAFKA_SASL_MECHANISM: '',
    FLINKFN_KAFKA_USERNAME: '',
    FLINKFN_KAFKA_PASSWORD: '',
    FLINKFN_KAFKA_CA_PEM: '',
    FLINKFN_KAFKA_TASKMANAGER_CA_FILE: '',
    FLINKFN_S3_BUCKET: target.s3.bucket,
    FLINKFN_S3_REGION: target.s3.region,
    FLINKFN_S3_ENDPOINT: target.s3.endpoint ?? '',
    FLINKFN_S3_FORCE_PATH_STYLE: 'true',
    FLINKFN_S3_PREFIX: '',
    FLINKFN_SIDECAR_COMMAND: `${process.execPath} ${sidecar}`,
    FLINKFN_CHECKPOINT_INTERVAL_MS: '1000',
    AWS_ACCESS_KEY_ID: target.s3.credentials?.accessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: target.s3.credentials?.secretAccessKey ?? '',
    AWS_REGION: target.s3.region,
  };
  assert.equal(secretNames(workflowFile), Object.keys(secrets).sort(), 'the test provides every secret the workflow reads, and the workflow reads every setting');
  const contexts = (event: 'push' | 'delete', branch: string): Contexts => ({ github: github(event, branch), secrets });
  const flink = new FlinkClient(target.flinkUrl);
  const cli = (args: string[]) => ok(run('npx', ['flinkfn', ...args], project, { ...secrets, CI: 'true' }), `flinkfn ${args.join(' ')}`);

  try {
    // A push to main: the function under its own name, no TTL.
    const main = contexts('push', 'main');
    assert.equal(jobsFor(workflow, main), ['deploy']);
    const mainRuns = passed(runJob(workflow, 'deploy', main, project, env(), STAND_INS), 'push to main');
    assert.equal(mainRuns.map((r) => r.step), ['Install', 'Typecheck and test', 'Deployment name', 'Deploy', 'Summary']);
    const deployed = JSON.parse(mainRuns.find((r) => r.step === 'Deploy')!.stdout.trim().split('\n').at(-1)!) as { name: string; jobId: string; expiresAt: string | null };
    assert.is(deployed.name, 'ci-fn');
    assert.is(deployed.expiresAt, null);
    assert.is((await flink.jobs()).find((j) => j.jid === deployed.jobId)?.state, 'RUNNING');

    // A push to a feature branch: a preview named after it, released by the controller after PREVIEW_TTL.
    const branch = contexts('push', 'Feature/Add-Thing');
    assert.equal(jobsFor(workflow, branch), ['deploy']);
    const before = Date.now();
    const previewRuns = passed(runJob(workflow, 'deploy', branch, project, env(), STAND_INS), 'push to a branch');
    const preview = JSON.parse(previewRuns.find((r) => r.step === 'Deploy')!.stdout.trim().split('\n').at(-1)!) as { name: string; jobId: string; expiresAt: string | null };
    assert.is(preview.name, 'ci-fn-feature-add-thing');
    assert.ok(preview.expiresAt, 'the preview has a TTL');
    const ttl = Date.parse(preview.expiresAt!) - before;
    assert.ok(ttl > 100 * 60_000 && ttl <= 2 * 3600_000 + 60_000, `expires about 2 h after the deploy (${ttl} ms)`);
    assert.is((await flink.jobs()).find((j) => j.jid === preview.jobId)?.state, 'RUNNING');
    const listed = JSON.parse(cli(['ls', '--json']).stdout) as unknown;
    assert.match(JSON.stringify(listed), /ci-fn-feature-add-thing/);

    // A push that deletes the branch starts nothing; the delete event destroys the preview only.
    assert.equal(jobsFor(workflow, { github: { ...github('push', 'Feature/Add-Thing'), event: { deleted: true, repository: { default_branch: 'main' } } }, secrets }), []);
    const deleted = contexts('delete', 'Feature/Add-Thing');
    assert.equal(jobsFor(workflow, deleted), ['destroy-preview']);
    const destroyRuns = passed(runJob(workflow, 'destroy-preview', deleted, project, env(), STAND_INS), 'branch deleted');
    assert.equal(destroyRuns.map((r) => r.step), ['Install', 'Deployment name', 'Destroy the preview']);
    assert.equal(await leftovers(target, preview.name, [], { scoped: true }), []);
    const jobs = await flink.jobs();
    assert.is(jobs.find((j) => j.jid === preview.jobId)?.state, 'CANCELED');
    assert.is(jobs.find((j) => j.jid === deployed.jobId)?.state, 'RUNNING', 'the main deployment runs on; the topics it shares with the preview stay');
  } finally {
    cli(['destroy', 'ci-fn', '--yes', '--json']);
  }
  assert.equal(await leftovers(target, 'ci-fn', [], { scoped: true }), []);
});

test.run();
