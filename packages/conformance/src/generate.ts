/**
 * Turns a case's function description into handler source, the same way for every runtime, so the
 * engine and the Flink runtime run identical artifacts.
 */
import type { ConformanceCase } from './cases.js';

const COLLECT = {
  create: '() => ({ ids: [] })',
  add: '(acc, e) => ({ ids: [...acc.ids, e.id] })',
  merge: '(a, b) => ({ ids: [...a.ids, ...b.ids] })',
  // Sorted so that results do not depend on arrival or merge order, which Flink does not define.
  result: '(acc, { key, window }) => ({ key, start: window.start, end: window.end, ids: [...acc.ids].sort((x, y) => x - y) })',
};

/** Handler module source for a case. */
export function handlerSource(testCase: ConformanceCase): string {
  const fn = testCase.function;
  const name = `case-${testCase.id}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
  const sinks = (fn.sinks ?? ['main']).map((sink) => `${JSON.stringify(sink)}: { topic: ${JSON.stringify(`out-${sink}`)} }`);
  const lines: string[] = [
    `name: ${JSON.stringify(name)},`,
    `source: { topic: 'in', format: ${JSON.stringify(fn.format ?? 'json')} },`,
    `sinks: { ${sinks.join(', ')} },`,
  ];
  if (fn.handle) lines.push(`handle: ${fn.handle},`);
  if (fn.async) lines.push(`async: ${JSON.stringify(fn.async)},`);
  if (fn.window) {
    lines.push(`key: ${fn.key ?? '(e) => e.key'},`);
    const time = fn.time ?? { kind: 'event' };
    if (time.kind === 'processing') {
      lines.push('time: processingTime(),');
    } else {
      const idle = time.idleTimeout === undefined ? '' : `, idleTimeout: ${time.idleTimeout}`;
      lines.push(`time: eventTime({ timestamp: ${time.timestamp ?? '(e) => e.ts'}, outOfOrderness: ${time.outOfOrderness ?? 0}${idle} }),`);
    }
    lines.push(`window: ${JSON.stringify(fn.window)},`);
    if (fn.allowedLateness !== undefined) lines.push(`allowedLateness: ${fn.allowedLateness},`);
    if (fn.late) lines.push(`late: { topic: 'late' },`);
    if (fn.process) {
      lines.push(`process: ${fn.process},`);
    } else {
      const aggregate = fn.aggregate === undefined || fn.aggregate === 'collect' ? COLLECT : fn.aggregate;
      const parts = Object.entries(aggregate).map(([part, source]) => `${part}: ${source}`);
      lines.push(`aggregate: { ${parts.join(', ')} },`);
    }
  }
  return [
    `// Generated from cases/${testCase.id}.json by @flinkfn/conformance. Do not edit.`,
    `// @ts-nocheck -- snippets come from JSON and are untyped.`,
    `import { defineFunction, eventTime, processingTime, to } from '@flinkfn/sdk';`,
    `void to;`,
    `export default defineFunction({`,
    ...lines.map((line) => `  ${line}`),
    `});`,
    '',
  ].join('\n');
}
