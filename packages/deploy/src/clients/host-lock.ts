/**
 * A lock shared by the processes of this host, held around one request.
 *
 * Why: S3Proxy, the local stack's S3 server, checks `If-Match` and then writes, as two steps. Eight writers
 * sending the same `If-Match` at once had two or more winners in 8 of 30 rounds, which breaks the
 * compare-and-swap that leases and deployment records rely on (Amazon S3 decides conditional writes
 * atomically). Every writer of an S3 server on loopback runs on this host, so serialising its conditional
 * writes per object through a lock file makes them atomic again.
 *
 * The lock is a file created with O_EXCL that names its holder. A holder killed inside its request leaves
 * the file behind: it is broken at once when the holder's process is gone, and after `STALE_MS` otherwise
 * (a request takes milliseconds).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRuns } from '../processes.js';

const STALE_MS = 10_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The lock directory for an S3 endpoint on loopback; null for any other endpoint (no lock needed). */
export function hostLockDir(endpoint: string | null): string | null {
  if (!endpoint) return null;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return null;
  }
  if (!LOOPBACK.has(url.hostname)) return null;
  return path.join(tmpdir(), 'flinkfn-s3-locks', `${url.hostname.replace(/[^a-z0-9.]/gi, '_')}-${url.port || '80'}`);
}

/** Runs `action` while holding the lock `name` in `dir`, shared with every process of this host. */
export async function withHostLock<T>(dir: string, name: string, action: () => Promise<T>): Promise<T> {
  const file = path.join(dir, `${createHash('sha1').update(name).digest('hex')}.lock`);
  const token = `${process.pid} ${Date.now()} ${randomBytes(6).toString('hex')}`;
  await acquire(dir, file, token);
  try {
    return await action();
  } finally {
    await release(file, token);
  }
}

async function acquire(dir: string, file: string, token: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(token);
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        await mkdir(dir, { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw error;
    }
    await breakIfStale(file);
    await sleep(Math.min(2 + attempt, 20));
  }
}

/** Removes a lock whose holder cannot release it; renaming first lets only one of several breakers remove it. */
async function breakIfStale(file: string): Promise<void> {
  const holder = await readFile(file, 'utf8').catch(() => null);
  if (holder === null) return; // released meanwhile
  const [pid, since = 0] = holder.split(' ').map(Number);
  // An empty file is a holder between its create and its write: fresh unless nothing ever followed.
  const stale = holder === '' ? false : !processRuns(pid) || Date.now() - since > STALE_MS;
  if (!stale) return;
  const broken = `${file}.broken-${randomBytes(6).toString('hex')}`;
  try {
    await rename(file, broken);
  } catch {
    return; // another process broke it first
  }
  await rm(broken, { force: true });
}

async function release(file: string, token: string): Promise<void> {
  // Only our own lock: after a break (we were presumed dead), the file may be another holder's.
  const holder = await readFile(file, 'utf8').catch(() => null);
  if (holder === token) await rm(file, { force: true });
}
