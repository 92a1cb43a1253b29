/**
 * `flinkfn-sidecar --artifact <file> [--socket <path>] [--external]`
 *
 * Loads and verifies an artifact, then serves the operator protocol on a Unix domain socket. Prints one
 * line `READY <socket path>` on stdout when it accepts connections; a failure to load prints the reason on
 * stderr and exits with code 3, so a supervising operator can race readiness against early exit.
 * In process mode (the default) it exits when its stdin closes, that is when the TaskManager that
 * spawned it is gone; `--external` (a container beside the TaskManager) keeps serving until SIGTERM.
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readArtifact } from '@flinkfn/artifact';
import { loadFunction } from '@flinkfn/host';
import { SidecarHandler } from './handler.js';
import { privateSocketPath, serve } from './server.js';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      artifact: { type: 'string' },
      socket: { type: 'string' },
      external: { type: 'boolean', default: false },
    },
  });
  if (!values.artifact) {
    process.stderr.write('flinkfn-sidecar: --artifact <file> is required\n');
    process.exit(2);
  }
  let handler: SidecarHandler;
  try {
    const artifact = await readArtifact(values.artifact);
    const loaded = await loadFunction(artifact, `artifact ${values.artifact}`);
    handler = new SidecarHandler(loaded.host, artifact.id);
  } catch (error) {
    process.stderr.write(`flinkfn-sidecar: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(3);
  }
  const socketPath = values.socket ?? (await privateSocketPath());
  const server = await serve(handler, socketPath);
  process.stdout.write(`READY ${socketPath}\n`);

  const stop = async (): Promise<void> => {
    await server.close();
    await rm(socketPath, { force: true });
    process.exit(0);
  };
  void server.shutdown.then(stop);
  process.once('SIGTERM', () => void stop());
  if (!values.external) {
    process.stdin.on('end', () => void stop());
    process.stdin.on('error', () => void stop());
    process.stdin.resume();
  }
}
