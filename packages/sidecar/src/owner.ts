/**
 * Owner markers: how flinkfn tells which of its folders on a TaskManager host nobody uses any more. The Java side
 * mirrors this file in `packages/runtime-flink/src/main/java/dev/flinkfn/runtime/sidecar/OwnerMarker.java`; both
 * test against `packages/sidecar/test/golden/owner.json`. docs/architecture.md says which folders carry one.
 *
 * A process that creates a folder for itself (a sidecar its socket folder, a TaskManager its artifact cache
 * folder) writes `owner.json` into it before it uses the folder, to a temporary name and renamed, so a reader never
 * sees half a marker:
 *
 *     {"format": "flinkfn-owner", "version": 1, "pid": 4242, "startTicks": 123456, "bootId": "7c1e…"}
 *
 *   pid         the owning process
 *   startTicks  its start time: field 22 of /proc/<pid>/stat (clock ticks after boot); null where there is no /proc
 *   bootId      /proc/sys/kernel/random/boot_id of the boot it ran in; null where there is no /proc
 *
 * The owner is alive when it ran in this boot (bootIds equal, or either is null) and either
 *   - startTicks is a number: /proc/<pid>/stat exists, names a process that is not a zombie (state Z or X), and its
 *     field 22 equals startTicks, so a pid reused by another process is not mistaken for the owner; or
 *   - startTicks is null: a process with that pid exists.
 * /proc/<pid>/stat: `pid (comm) state ppid …`; comm may hold spaces and parentheses, so fields are counted after
 * the last `)`: the state is field 3, the start time field 22.
 *
 * Sweeping a parent folder removes each child folder with the agreed name prefix, with everything in it, when its
 * owner is dead, or when it has no readable marker and was last modified more than MARKERLESS_GRACE_MS ago (a folder
 * whose marker is still being written is younger; older ones were left by a version without markers, or by a
 * process killed between creating the folder and writing its marker). A folder whose owner is alive is never removed.
 * Symbolic links are never followed: only real directories are swept.
 */
import { lstatSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const OWNER_FILE = 'owner.json';
export const OWNER_FORMAT = 'flinkfn-owner';
export const OWNER_VERSION = 1;
export const MARKERLESS_GRACE_MS = 10 * 60 * 1000;

export interface OwnerMarker {
  format: typeof OWNER_FORMAT;
  version: typeof OWNER_VERSION;
  pid: number;
  startTicks: number | null;
  bootId: string | null;
}

/** What /proc/<pid>/stat says that matters here. */
export interface ProcStat {
  state: string;
  startTicks: number;
}

/** Parses a /proc/<pid>/stat line; null if it does not have the shape the kernel documents. */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  // After "pid (comm)": field 3 (state) is the first, field 22 (starttime) the twentieth.
  const fields = line.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  const ticks = fields[19];
  if (state === undefined || ticks === undefined || !/^\d+$/.test(ticks)) return null;
  return { state, startTicks: Number(ticks) };
}

function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The marker of this process. */
export function currentOwner(): OwnerMarker {
  return ownerOf(process.pid);
}

/** The marker that names the running process `pid` as owner. */
export function ownerOf(pid: number): OwnerMarker {
  const stat = readProcStat(pid);
  return {
    format: OWNER_FORMAT,
    version: OWNER_VERSION,
    pid,
    startTicks: stat?.startTicks ?? null,
    bootId: stat ? readBootId() : null,
  };
}

/** Parses a marker's text; null if it is not a marker of this version. */
export function parseOwnerMarker(text: string): OwnerMarker | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  const { pid, startTicks, bootId } = m;
  if (m.format !== OWNER_FORMAT || m.version !== OWNER_VERSION) return null;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  if (startTicks !== null && (typeof startTicks !== 'number' || !Number.isSafeInteger(startTicks) || startTicks < 0)) return null;
  if (bootId !== null && typeof bootId !== 'string') return null;
  return { format: OWNER_FORMAT, version: OWNER_VERSION, pid, startTicks, bootId };
}

/** Whether the process a marker names is still running (the rule in the header). */
export function isOwnerAlive(owner: OwnerMarker): boolean {
  const bootId = readBootId();
  if (owner.bootId !== null && bootId !== null && owner.bootId !== bootId) return false;
  if (owner.startTicks === null) {
    try {
      process.kill(owner.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const stat = readProcStat(owner.pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X' && stat.startTicks === owner.startTicks;
}

/** Writes this process's marker into `folder`, atomically. */
export function writeOwnerMarker(folder: string, owner: OwnerMarker = currentOwner()): void {
  const temporary = path.join(folder, `.${OWNER_FILE}.${process.pid}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  renameSync(temporary, path.join(folder, OWNER_FILE));
}

/** The marker in `folder`; null when there is none or it cannot be read. */
export function readOwnerMarker(folder: string): OwnerMarker | null {
  try {
    return parseOwnerMarker(readFileSync(path.join(folder, OWNER_FILE), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Removes the folders `<parent>/<prefix>*` whose owner is dead (the rule in the header) and returns their paths.
 * Never throws: a folder that cannot be read or removed is left for the next sweep.
 */
export function sweepLeftovers(parent: string, prefix: string, now: number = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(parent).filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const folder = path.join(parent, name);
    try {
      const stat = lstatSync(folder);
      if (!stat.isDirectory()) continue;
      const owner = readOwnerMarker(folder);
      const abandoned = owner !== null ? !isOwnerAlive(owner) : now - stat.mtimeMs > MARKERLESS_GRACE_MS;
      if (!abandoned) continue;
      rmSync(folder, { recursive: true, force: true });
      removed.push(folder);
    } catch {
      // gone already (another sweeper), or not ours to remove: the next sweep looks again
    }
  }
  return removed;
}
