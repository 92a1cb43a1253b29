/**
 * Crash points for the kill tests: FLINKFN_FAILPOINT=<operation>:<step> makes the process SIGKILL itself
 * when it reaches that step, exactly as an operator's Ctrl-\ or a CI runner's timeout would. Off unless
 * the variable is set.
 */
export function failpoint(name: string): void {
  const wanted = process.env.FLINKFN_FAILPOINT;
  if (wanted !== undefined && wanted === name) {
    process.kill(process.pid, 'SIGKILL');
    // The signal is asynchronous to this thread: make sure not one more step runs.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
  }
}
