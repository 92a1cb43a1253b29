/**
 * A closed pipe on stdout (`flinkfn dev … | head -1`, `flinkfn status x | head`) ends the command quietly,
 * as Unix tools do, with exit code 0: the reader has what it wanted. A long-running command that stops on
 * SIGTERM (tail, controller, dev --watch) stops that way, releasing what it holds (tail's consumer group);
 * any other command exits at once. Nothing is printed: nobody reads it any more.
 */
export function stopQuietlyOnClosedPipe(): void {
  let closed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (closed) return; // writes after the first failure fail too
    if (error.code !== 'EPIPE') throw error;
    closed = true;
    process.exitCode = 0;
    if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
    else process.exit(0);
  });
  // A closed stderr leaves nobody to tell.
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
