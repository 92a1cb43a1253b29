/**
 * `flinkfn-sidecar --artifact <file> [--socket <path>] [--external]`
 *
 * Loads and verifies an artifact, then serves the operator protocol on a Unix domain socket. Prints one
 * line `READY <socket path>` on stdout when it accepts connections; a failure to load prints the reason on
 * stderr and exits with code 3, so a supervising operator can race readiness against early exit.
 * In process mode (the default) it exits when its stdin closes, that is when the TaskManager that
 * spawned it is gone; `--external` (a container beside the TaskManager) keeps serving until SIGTERM.
 *
 * A handler's console.* goes to stderr as handler log lines (log-lines.ts), never to stdout.
 *
 * Files: without `--socket` the socket lives in a private folder `<tmpdir>/flinkfn-sidecar-*` marked with this
 * process as its owner (owner.ts), beside the imported bundle (`modules/`, unless FLINKFN_CACHE_DIR names
 * another place). Every exit that runs JavaScript removes the folder; one left by a sidecar that
 * was killed (SIGKILL, or its TaskManager's whole process group) is removed by the next sidecar that starts on
 * the host, before it creates its own. With `--socket` only the socket file is removed: the folder is not ours; the
 * socket is made owner-only (0600) before READY, and a socket file there that nothing answers on (a killed sidecar's,
 * before a restart of its container) is removed first.
 */
import { chmodSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readArtifact } from '@flinkfn/artifact';
import { loadFunction, redirectConsole } from '@flinkfn/host';
import { SidecarHandler } from './handler.js';
import { encodeHandlerLog } from './log-lines.js';
import { sweepLeftovers } from './owner.js';
import { SOCKET_FOLDER_PREFIX, clearDeadSocket, privateSocketPath, serve } from './server.js';

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
  // The private folder comes first: the host writes the imported bundle into it too (FLINKFN_CACHE_DIR), so that
  // the module file goes with the folder instead of piling up in a shared cache.
  if (values.socket === undefined) sweepLeftovers(os.tmpdir(), SOCKET_FOLDER_PREFIX);
  const socketPath = values.socket ?? (await privateSocketPath());
  if (values.socket === undefined) process.env['FLINKFN_CACHE_DIR'] ??= path.join(path.dirname(socketPath), 'modules');
  let listening = false;
  // Synchronous, so that it also runs on process.exit() from anywhere and on an uncaught exception. A given
  // --socket is only removed once this process listened on it: before that it may be another sidecar's.
  const removeOwnFiles = (): void => {
    try {
      if (values.socket === undefined) rmSync(path.dirname(socketPath), { recursive: true, force: true });
      else if (listening) rmSync(socketPath, { force: true });
    } catch {
      // exiting anyway; a folder left behind is swept by the next sidecar
    }
  };
  process.once('exit', removeOwnFiles);

  // From the module's first line on, the handler's console goes to stderr as handler log lines (log-lines.ts), which
  // the operator logs with its job and function; stdout carries only READY. Lasts for the life of the process.
  redirectConsole((level, text) => {
    process.stderr.write(`${encodeHandlerLog(level, text).join('\n')}\n`);
  });
  let handler: SidecarHandler;
  try {
    const artifact = await readArtifact(values.artifact);
    const loaded = await loadFunction(artifact, `artifact ${values.artifact}`);
    handler = new SidecarHandler(loaded.host, artifact.id);
  } catch (error) {
    process.stderr.write(`flinkfn-sidecar: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(3);
  }
  if (values.socket !== undefined) {
    const found = await clearDeadSocket(socketPath);
    if (found === 'in use' || found === 'not a socket') {
      process.stderr.write(`flinkfn-sidecar: --socket ${socketPath} is ${found === 'in use' ? 'in use by a running sidecar' : 'a file that is not a socket'}; give another path\n`);
      process.exit(3);
    }
    if (found === 'removed a dead socket') process.stderr.write(`flinkfn-sidecar: removed the socket a killed sidecar left at ${socketPath}\n`);
  }
  // A given --socket (external mode: a folder shared with the TaskManager's container, such as an emptyDir) is
  // owner-only from its creation (umask while listening), so only this process's user — the TaskManager's, on
  // Kubernetes — can connect. A private socket's folder is 0700 already.
  const umask = values.socket !== undefined ? process.umask(0o177) : null;
  const server = await serve(handler, socketPath).finally(() => {
    if (umask !== null) process.umask(umask);
  });
  listening = true;
  if (values.socket !== undefined) chmodSync(socketPath, 0o600);

  // Every way to stop is in place before READY: a signal that came earlier would kill without the exit hook.
  const stop = async (): Promise<void> => {
    await server.close();
    process.exit(0);
  };
  void server.shutdown.then(stop);
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  if (!values.external) {
    process.stdin.on('end', () => void stop());
    process.stdin.on('error', () => void stop());
    process.stdin.resume();
  }
  process.stdout.write(`READY ${socketPath}\n`);
}
