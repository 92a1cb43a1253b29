/**
 * `flinkfn local up|down|status|logs`: the local stack (Flink session cluster, Kafka broker, S3Proxy on
 * 127.0.0.1, from Maven Central jars) that `flinkfn deploy` uses when no target is configured.
 */
import { defineCommand } from '../command.js';
import type { Output } from '../output.js';
import { resolveTarget, type TargetArgs } from '../target-options.js';
import { UserError } from '../errors.js';

interface LocalArgs extends TargetArgs {
  action: 'up' | 'down' | 'status' | 'logs';
  service?: 'flink' | 'kafka' | 's3' | 'controller';
  lines: number;
}

export const localCommand = defineCommand({
  command: 'local <action>',
  describe: 'Start, stop or inspect the local stack: Flink, Kafka and S3 on 127.0.0.1',
  target: true,
  positionals: {
    action: { choices: ['up', 'down', 'status', 'logs'] as const, demandOption: true, describe: 'up: start (idempotent); down: stop what up started; status; logs' },
  },
  options: {
    service: { choices: ['flink', 'kafka', 's3', 'controller'] as const, describe: 'logs: only this service' },
    lines: { type: 'number', default: 40, describe: 'logs: lines per log file' },
  },
  examples: [
    ['$0 local up', 'Start the stack (first run resolves about 300 MB of jars from Maven Central)'],
    ['FLINKFN_LOCAL_FLINK_PORT=18081 $0 local up', 'Use another port for the Flink REST API / UI'],
  ],
  epilog: 'One stack per user, shared by their projects: data and logs live in ~/.flinkfn/local (FLINKFN_HOME moves it; "root" in flinkfn.config.json gives a project its own; FLINKFN_LOCAL_ROOT names any folder). Ports: FLINKFN_LOCAL_FLINK_PORT, FLINKFN_LOCAL_KAFKA_PORT, FLINKFN_LOCAL_S3_PORT or "ports" in flinkfn.config.json.',
  run: async (args, out) => {
    const target = await resolveTarget(args);
    if (target.kind !== 'local' || target.localRoot === null) {
      throw new UserError(`the target "${target.name}" is not a local stack`, 'flinkfn local works on the local target; drop --target or FLINKFN_TARGET.');
    }
    const stack = await import('@flinkfn/local-stack/stack.mjs');
    const root = target.localRoot;
    try {
      await runAction(args, out, stack, root, target.localPorts);
    } catch (error) {
      // The services' own errors (missing Java, a port in use, a service that exits) are for the user to fix.
      if (error instanceof UserError || !(error instanceof Error)) throw error;
      throw new UserError(error.message, 'flinkfn local logs shows the services\' logs; FLINKFN_LOCAL_FLINK_PORT, FLINKFN_LOCAL_KAFKA_PORT, FLINKFN_LOCAL_S3_PORT change the ports.');
    }
  },
});

type Stack = typeof import('@flinkfn/local-stack/stack.mjs');

async function runAction(args: LocalArgs, out: Output, stack: Stack, root: string, ports: { flinkRest: number; kafka: number; s3: number }): Promise<void> {
  switch (args.action) {
    case 'up': {
      await stack.checkPrerequisites();
      const { LOCAL_BUCKET, localController } = await import('@flinkfn/deploy');
      const started = performance.now();
      const result = await stack.startStack({ root, ports, bucket: LOCAL_BUCKET, controller: localController(), onProgress: (line: string) => out.progress(line) });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      out.info(`local stack up in ${seconds} s (${root})`);
      out.info(`  flink  ${result.flink.restUrl}`);
      out.info(`  kafka  ${result.kafka.bootstrapServers}`);
      out.info(`  s3     ${result.s3.endpoint} (bucket ${result.s3.bucket})`);
      if (result.services.controller) out.info(`  controller pid ${result.services.controller.pid} (releases ended, expired and lost deployments; flinkfn local logs --service controller)`);
      out.data({ ok: true, root, seconds: Number(seconds), flink: result.flink, kafka: result.kafka, s3: { endpoint: result.s3.endpoint, bucket: result.s3.bucket, region: result.s3.region } });
      return;
    }
    case 'down': {
      const result = await stack.stopStack({ root });
      out.info(result.stopped.length > 0 ? `stopped ${result.stopped.join(', ')}` : 'nothing was running');
      out.data({ ok: true, ...result });
      return;
    }
    case 'status': {
      const status = await stack.stackStatus({ root });
      out.info(`local stack ${status.up ? 'up' : 'down'} (${root})`);
      for (const [service, state] of Object.entries(status.services)) out.info(`  ${service.padEnd(6)} ${(state as { running?: boolean }).running ? 'running' : 'stopped'}`);
      out.data({ ok: true, ...status });
      if (!status.up) process.exitCode = 3;
      return;
    }
    case 'logs': {
      const logs = await stack.stackLogs({ root, ...(args.service ? { service: args.service } : {}), lines: args.lines });
      for (const log of logs) {
        out.info(`== ${log.service}: ${log.file}`);
        for (const line of log.lines) out.info(line);
      }
      out.data({ ok: true, logs });
      return;
    }
  }
}
