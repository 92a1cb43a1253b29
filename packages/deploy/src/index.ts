/**
 * @flinkfn/deploy — functions on a real Flink cluster: targets and config, the deployment registry
 * (write-ahead teardown manifest), deploy/upgrade/rollback/destroy and inspection.
 *
 * @example
 * import { loadTarget, deploy } from '@flinkfn/deploy';
 * const result = await deploy({ target: await loadTarget({ cwd: '.' }), root: '.' });
 */
export { loadTarget, CONFIG_FILE, LOCAL_TARGET, DEFAULT_LOCAL_PORTS } from './config.js';
export type { ResolvedTarget, TargetConfig, ConfigFile, LocalTargetConfig, RemoteTargetConfig, KubernetesTargetConfig, ResolvedKubernetes, LoadTargetOptions } from './config.js';
export { renderFunction, renderSessionCluster, toYaml, objectId } from './kubernetes/render.js';
export type { KubernetesObject, FunctionRenderInput } from './kubernetes/render.js';
export { renderManifests, renderSessionManifests } from './kubernetes/preview.js';
export type { RenderOptions, RenderResult } from './kubernetes/preview.js';
export { Kubectl, findKubectl } from './kubernetes/kubectl.js';
export { DeployError, ConfigError } from './errors.js';
export { deploy } from './lifecycle/deploy.js';
export type { DeployOptions, DeployResult, DeployStep, StepEvent } from './lifecycle/deploy.js';
export { destroy } from './lifecycle/destroy.js';
export { deployScoped, disposeAll } from './lifecycle/scope.js';
export type { ScopedDeployment } from './lifecycle/scope.js';
export type { DestroyOptions, DestroyResult } from './lifecycle/destroy.js';
export { rollback } from './lifecycle/rollback.js';
export type { RollbackOptions, RollbackResult } from './lifecycle/rollback.js';
export { list, status, logs } from './observe/inspect.js';
export type { DeploymentSummary, DeploymentStatus, DeploymentLogs } from './observe/inspect.js';
export type { HandlerMetric, HandlerStage } from './observe/handler-metrics.js';
export { followLogs, parseTaskManagerLine } from './observe/handler-logs.js';
export type { FollowLogsOptions, HandlerLogEntry } from './observe/handler-logs.js';
export { tail } from './streams/tail.js';
export type { TailOptions, TailedRecord } from './streams/tail.js';
export type { TeardownItem, TeardownAction } from './lifecycle/teardown.js';
export { Deployment, registryKey, artifactKey, stateKeys, secretsKey, validateRecord } from './registry.js';
export type { DeploymentRecord, TrackedResource, DeploymentVersion, Lifetime, Ending, VersionSecrets } from './registry.js';
export { FlinkClient, FlinkRestError } from './clients/flink.js';
export { ObjectStore } from './clients/object-store.js';
export { KafkaAdmin, kafkaClient } from './clients/kafka.js';
export { openSession } from './session.js';
export type { Session } from './session.js';
export { ensureLocalStack, LOCAL_BUCKET } from './local.js';
export { runtimeJar, runtimeJarFile, localSidecarCommand, localController, SOURCE_CHECKOUT, PACKAGED_RUNTIME_JAR } from './install.js';
export { send } from './streams/send.js';
export { runController } from './controller/run.js';
export type { ControllerOptions } from './controller/run.js';
export { reconcile, ControllerMemory } from './controller/reconcile.js';
export type { ControllerEvent, ReconcileOptions } from './controller/reconcile.js';
export { gc } from './controller/gc.js';
export type { GcItem, GcOptions, GcResult } from './controller/gc.js';
export { Leases, leaseKey } from './leases.js';
export type { Lease, Holder, SharedKind, DetachOutcome } from './leases.js';
