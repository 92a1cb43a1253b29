/**
 * The stateless map through one real sidecar process and its socket, no JVM: bundles of 250 records, 4 in flight
 * (as JsStageOperator sends them). Prints, per round, records/s and the sidecar's CPU time per record (all its
 * threads, from /proc), so that a shared machine's load shows as fewer records/s more than as more CPU per record.
 *
 *   node --import tsx bench/sidecar-socket.ts [--sidecar <program>] [--rounds 1500] [--repeat 3] [--cpu-prof <folder>]
 *
 * `--sidecar` runs another sidecar program with the same arguments (bench/sidecar-workers.mjs); the sidecar runs on
 * the Node.js that runs this script.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MessageType } from '@flinkfn/sidecar';
import { TestClient } from '../packages/sidecar/test/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { sidecar: { type: 'string' }, rounds: { type: 'string', default: '1500' }, repeat: { type: 'string', default: '3' }, 'cpu-prof': { type: 'string' } },
});
const built = JSON.parse(execFileSync(process.execPath, [path.join(root, 'packages/cli/bin/flinkfn.js'), 'build', 'functions/stateless-map.ts', '--root', path.join(root, 'bench'), '--json'], { encoding: 'utf8' })) as { file: string };
const program = values.sidecar ?? path.join(root, 'packages/sidecar/bin/flinkfn-sidecar.js');
const flags = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
const child = spawn(process.execPath, [...flags, program, '--artifact', built.file], { stdio: ['pipe', 'pipe', 'inherit'] });
const socketPath = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.once('exit', (code) => reject(new Error(`the sidecar exited with ${code}`)));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const ready = /^READY (.+)$/m.exec(out);
    if (ready?.[1]) resolve(ready[1]);
  });
});
child.removeAllListeners('exit');

/** CPU seconds the sidecar process used so far (user + system, all threads). */
const cpuSeconds = (): number => {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const START = 1_700_000_000_000;
const bundles = Array.from({ length: 40 }, (_, b) =>
  Array.from({ length: 250 }, (_, j) => {
    const i = b * 250 + j;
    return Buffer.from(JSON.stringify({ id: i, user: `u${i % 10_000}`, page: `/products/${i % 50}`, price: 12.5, qty: 1 + (i % 5), ts: START + i }));
  }));
const client = await TestClient.connect(socketPath);
const rounds = Number(values.rounds);
for (let i = 0; i < 400; i++) await client.send({ type: MessageType.PROCESS, id: i, records: bundles[i % 40] as Buffer[] }); // warm-up
for (let repeat = 0; repeat < Number(values.repeat); repeat++) {
  const cpuBefore = cpuSeconds();
  const started = process.hrtime.bigint();
  const inFlight: Array<Promise<unknown>> = [];
  for (let i = 0; i < rounds; i++) {
    inFlight.push(client.send({ type: MessageType.PROCESS, id: i, records: bundles[i % 40] as Buffer[] }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds() - cpuBefore;
  const records = rounds * 250;
  process.stdout.write(`${Math.round(records / seconds)} records/s, sidecar ${Math.round((cpu * 1e9) / records)} CPU ns per record (${(cpu / seconds).toFixed(2)} cores), load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
}
client.close();
await new Promise<void>((done) => {
  child.once('exit', () => done());
  child.stdin.end();
});
