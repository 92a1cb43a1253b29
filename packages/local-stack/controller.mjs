// @ts-check
// One supervised extra process of the local stack (the flinkfn controller): any command, started detached
// beside the services, with its own pid file and log under the stack root, stopped with the stack.
//
// Layout of <root>: controller.pid, controller.json (pid, start time, command), controller.log (appended).
// The command line of an arbitrary command carries no marker of ours, so a pid counts as the controller only
// while the kernel's start time of that pid is the one recorded when it was started (a reused pid has another).
import fs from 'node:fs';
import path from 'node:path';
import { fileSize, noop, processStartTime, readJson, readPid, sleep, spawnDetached, stopProcesses, tail } from './common.mjs';

/**
 * @typedef {object} ControllerCommand
 * @property {string[]} command  program and arguments, e.g. ['node', 'cli.js', 'controller']
 * @property {Record<string, string>} [env]  added to the environment (FLINKFN_LOCAL_ROOT is always set)
 */

/** @typedef {{ pid: number; startTime: string; command: string[] }} ControllerRecord */

// A command that exits within this time after its start is reported as failed, with its log.
const EARLY_EXIT_MS = 500;

/** @param {string} root */
function paths(root) {
  const r = path.resolve(root);
  return { root: r, pid: path.join(r, 'controller.pid'), state: path.join(r, 'controller.json'), log: path.join(r, 'controller.log') };
}

/** @param {ReturnType<typeof paths>} p */
function running(p) {
  /** @type {ControllerRecord | undefined} */
  const record = readJson(p.state);
  const pid = readPid(p.pid);
  if (!record || record.pid !== pid) return undefined;
  return processStartTime(pid) === record.startTime ? record : undefined;
}

/**
 * Starts the command unless it already runs under `root` with the same command line (a different command
 * replaces it). Resolves with its pid once it survived its first moments.
 * @param {ControllerCommand & { root: string; onProgress?: import('./common.mjs').Progress }} options
 * @returns {Promise<{ pid: number; reused: boolean; logFile: string }>}
 */
export async function startController({ root, command, env = {}, onProgress = noop }) {
  const [program, ...args] = command;
  if (!program) throw new Error('startController: command is empty');
  const p = paths(root);
  const current = running(p);
  if (current && JSON.stringify(current.command) === JSON.stringify(command)) return { pid: current.pid, reused: true, logFile: p.log };
  if (current) await stopController({ root });
  fs.mkdirSync(p.root, { recursive: true });
  const logStart = fileSize(p.log);
  fs.appendFileSync(p.log, `--- ${new Date().toISOString()} starting ${JSON.stringify(command)}\n`);
  const { pid, exited } = spawnDetached(program, args, { logFile: p.log, cwd: p.root, env: { ...process.env, ...env, FLINKFN_LOCAL_ROOT: p.root } });
  const startTime = processStartTime(pid);
  fs.writeFileSync(p.pid, `${pid}\n`);
  fs.writeFileSync(p.state, JSON.stringify({ pid, startTime, command }));
  onProgress(`controller: started pid ${pid}, log ${p.log}`);
  await sleep(EARLY_EXIT_MS);
  const exit = exited();
  if (exit || startTime === undefined) {
    fs.rmSync(p.pid, { force: true });
    throw new Error(`the controller ${JSON.stringify(command)} exited at once (${exit ?? 'no process'}); end of ${p.log}:\n${tail(p.log, 30, logStart)}`);
  }
  return { pid, reused: false, logFile: p.log };
}

/**
 * SIGTERM to the controller's process group, SIGKILL after `timeoutMs`.
 * @param {{ root: string; timeoutMs?: number }} options
 */
export async function stopController({ root, timeoutMs = 15_000 }) {
  const p = paths(root);
  const record = running(p);
  const { pids } = await stopProcesses([record?.pid], (pid) => processStartTime(pid) === record?.startTime, timeoutMs);
  fs.rmSync(p.pid, { force: true });
  return { stopped: pids.length > 0 };
}

/**
 * @param {{ root: string }} options
 * @returns {{ running: boolean; pid?: number; command?: string[]; logFile: string }}
 */
export function controllerStatus({ root }) {
  const p = paths(root);
  const record = running(p);
  return record ? { running: true, pid: record.pid, command: record.command, logFile: p.log } : { running: false, logFile: p.log };
}
