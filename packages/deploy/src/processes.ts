/** Facts about the processes of this host, for telling a dead writer from a slow one. */

/** Whether a process with this pid runs on this host (signal 0 checks without sending anything). */
export function processRuns(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
