import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MARKERLESS_GRACE_MS,
  OWNER_FILE,
  currentOwner,
  isOwnerAlive,
  ownerOf,
  parseOwnerMarker,
  parseProcStat,
  readOwnerMarker,
  sweepLeftovers,
  writeOwnerMarker,
  type OwnerMarker,
} from '../src/owner.js';
import { PACKAGE_ROOT } from './helpers.js';

interface GoldenOwner {
  markers: Array<{ name: string; text: string; parsed: { pid: number; startTicks: number | null; bootId: string | null } | null }>;
  stat: Array<{ name: string; line: string; parsed: { state: string; startTicks: number } | null }>;
}
const golden = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'test', 'golden', 'owner.json'), 'utf8')) as GoldenOwner;

/** A real process that just waits; the tests kill it with SIGKILL. */
function startOwner(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const folderOf = (parent: string, name: string, owner: OwnerMarker | null): string => {
  const folder = path.join(parent, name);
  mkdirSync(folder);
  if (owner) writeOwnerMarker(folder, owner);
  writeFileSync(path.join(folder, 'sidecar.sock'), 'stands in for the socket');
  return folder;
};

const contract = suite('the owner-marker contract (golden cases shared with Java)');

for (const c of golden.markers) {
  contract(`marker: ${c.name}`, () => {
    const parsed = parseOwnerMarker(c.text);
    assert.equal(parsed && { pid: parsed.pid, startTicks: parsed.startTicks, bootId: parsed.bootId }, c.parsed);
  });
}

for (const c of golden.stat) {
  contract(`/proc/<pid>/stat: ${c.name}`, () => {
    assert.equal(parseProcStat(c.line), c.parsed);
  });
}

contract('this process is its own live owner, and a written marker reads back the same', () => {
  const owner = currentOwner();
  assert.is(owner.pid, process.pid);
  assert.type(owner.startTicks, 'number', 'Linux has /proc');
  assert.ok(isOwnerAlive(owner));
  const folder = mkdtempSync(path.join(os.tmpdir(), 'owner-test-'));
  try {
    writeOwnerMarker(folder);
    assert.equal(readOwnerMarker(folder), owner);
    assert.equal(readOwnerMarker(os.tmpdir()), null, 'a folder without a marker has no owner');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

contract('a SIGKILLed owner is dead; its pid with another start time (a reused pid) is not its owner', async () => {
  const child = startOwner();
  const owner = ownerOf(child.pid ?? -1);
  assert.ok(isOwnerAlive(owner));
  assert.not.ok(isOwnerAlive({ ...owner, startTicks: (owner.startTicks ?? 0) + 1 }), 'same pid, later start: reused');
  assert.not.ok(isOwnerAlive({ ...owner, bootId: 'another-boot' }), 'same pid and start time in an earlier boot');
  await killed(child);
  assert.not.ok(isOwnerAlive(owner));
});

const sweep = suite('sweeping leftovers');

sweep('removes the folders of killed owners and of nobody (when old), keeps live, young and foreign ones', async () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'sweep-test-'));
  const live = startOwner();
  const doomed = startOwner();
  try {
    const liveFolder = folderOf(parent, 'flinkfn-sidecar-live', ownerOf(live.pid ?? -1));
    const killedFolder = folderOf(parent, 'flinkfn-sidecar-killed', ownerOf(doomed.pid ?? -1));
    const reusedPidFolder = folderOf(parent, 'flinkfn-sidecar-reused', { ...ownerOf(live.pid ?? -1), startTicks: 1 });
    const youngFolder = folderOf(parent, 'flinkfn-sidecar-young', null);
    const oldFolder = folderOf(parent, 'flinkfn-sidecar-old', null);
    const past = (Date.now() - MARKERLESS_GRACE_MS - 60_000) / 1000;
    utimesSync(oldFolder, past, past);
    const foreign = folderOf(parent, 'something-else', ownerOf(doomed.pid ?? -1));
    // A link named like a leftover must not lead the sweep into its target.
    const target = folderOf(parent, 'target', ownerOf(doomed.pid ?? -1));
    symlinkSync(target, path.join(parent, 'flinkfn-sidecar-link'));
    await killed(doomed);

    const removed = sweepLeftovers(parent, 'flinkfn-sidecar-');

    assert.equal(removed.sort(), [killedFolder, oldFolder, reusedPidFolder].sort());
    for (const gone of [killedFolder, oldFolder, reusedPidFolder]) assert.not.ok(existsSync(gone), gone);
    for (const kept of [liveFolder, youngFolder, foreign, target, path.join(target, OWNER_FILE)]) assert.ok(existsSync(kept), kept);
    assert.ok(existsSync(path.join(liveFolder, 'sidecar.sock')));
    assert.equal(sweepLeftovers(parent, 'flinkfn-sidecar-'), [], 'a second sweep finds nothing more');
    assert.equal(sweepLeftovers(path.join(parent, 'missing'), 'flinkfn-sidecar-'), [], 'a missing parent is nothing to sweep');
  } finally {
    live.kill('SIGKILL');
    rmSync(parent, { recursive: true, force: true });
  }
});

contract.run();
sweep.run();
