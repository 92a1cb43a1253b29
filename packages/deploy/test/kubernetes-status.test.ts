/**
 * What a deploy makes of the operator's status, as `kubectl get -o jsonpath=STATUS_JSONPATH` prints it: waiting until
 * the operator has observed the applied generation, success only with the job RUNNING and the resource DEPLOYED or
 * STABLE, failure on FAILED, an operator rollback or a terminal job; transient errors are waited out. The lines are
 * written in the shape kubectl prints for that JSONPath; the operator's states are those of its CRD (release 1.15.0).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { judgeStatus, parseStatus, STATUS_JSONPATH } from '../src/kubernetes/apply.js';

const test = suite('operator status');
const JOB = '3f8a1c2d4e5b6a7980a1b2c3d4e5f607';

test('the JSONPath asks for generation, observed generation, lifecycle, job state, job id and error, in that order', () => {
  assert.is(STATUS_JSONPATH, '{.metadata.generation}|{.status.observedGeneration}|{.status.lifecycleState}|{.status.jobStatus.state}|{.status.jobStatus.jobId}|{.status.error}');
  assert.equal(parseStatus(`3|3|STABLE|RUNNING|${JOB}|`), { generation: 3, observedGeneration: 3, lifecycleState: 'STABLE', jobState: 'RUNNING', jobId: JOB, error: null });
  assert.equal(parseStatus('1||||'), { generation: 1, observedGeneration: null, lifecycleState: null, jobState: null, jobId: null, error: null });
  assert.is(parseStatus('2|2|FAILED|||{"type":"org.apache.flink.kubernetes.operator.exception.ReconciliationException","message":"a|b"}').error, '{"type":"org.apache.flink.kubernetes.operator.exception.ReconciliationException","message":"a|b"}', 'an error with | in it stays whole');
});

test('a deploy waits while the operator has not observed the applied spec, even if the old job runs', () => {
  assert.equal(judgeStatus(parseStatus('1||||')), { outcome: 'pending' }, 'just created');
  assert.equal(judgeStatus(parseStatus(`4|3|STABLE|RUNNING|${JOB}|`)), { outcome: 'pending' }, 'an upgrade applied, the previous version still running');
  assert.equal(judgeStatus(parseStatus(`4|4|UPGRADING|RUNNING|${JOB}|`)), { outcome: 'pending' });
  assert.equal(judgeStatus(parseStatus('4|4|DEPLOYED|CREATED||')), { outcome: 'pending' }, 'no job id yet');
  assert.equal(judgeStatus(parseStatus(`4|4|DEPLOYED|RECONCILING|${JOB}|`)), { outcome: 'pending' });
  assert.equal(judgeStatus(parseStatus('4|4|DEPLOYED||| could not reach the JobManager')), { outcome: 'pending' }, 'a transient error is waited out');
});

test('it runs once this generation\'s job is RUNNING and the resource DEPLOYED or STABLE; the job id is the operator\'s', () => {
  assert.equal(judgeStatus(parseStatus(`4|4|DEPLOYED|RUNNING|${JOB}|`)), { outcome: 'running', jobId: JOB });
  assert.equal(judgeStatus(parseStatus(`4|4|STABLE|RUNNING|${JOB}|`)), { outcome: 'running', jobId: JOB });
  assert.equal(judgeStatus(parseStatus(`4|4|STABLE|FINISHED|${JOB}|`)), { outcome: 'running', jobId: JOB }, 'a bounded job that ended already');
});

test('FAILED, an operator rollback and a terminal job fail the deploy with the operator\'s error', () => {
  const failed = judgeStatus(parseStatus('2|2|FAILED|||ImagePullBackOff'));
  assert.equal(failed, { outcome: 'failed', reason: 'the operator reports FAILED: ImagePullBackOff' });
  assert.equal(judgeStatus(parseStatus(`2|2|ROLLED_BACK|RUNNING|${JOB}|`)), { outcome: 'failed', reason: 'the operator rolled the upgrade back (ROLLED_BACK)' });
  assert.equal(judgeStatus(parseStatus(`2|2|DEPLOYED|FAILED|${JOB}|boom`)), { outcome: 'failed', reason: 'the job is FAILED: boom' });
  assert.equal(judgeStatus(parseStatus(`2|2|DEPLOYED|CANCELED|${JOB}|`)), { outcome: 'failed', reason: 'the job is CANCELED' });
});

test.run();
