/**
 * @flinkfn/conformance — the shared window-semantics cases and the tools to run them.
 *
 * @example
 * import { loadCases, buildCase, runOnEngine, differences } from '@flinkfn/conformance';
 */
export { CASES_DIRECTORY, expectedOutputs, loadCases } from './cases.js';
export type { CaseExpectation, CaseFunction, CaseStep, ConformanceCase } from './cases.js';
export { RULES } from './rules.js';
export { handlerSource } from './generate.js';
export { BUILD_DIRECTORY, buildAllCases, buildCase } from './build-cases.js';
export { runOnEngine } from './run-engine.js';
export type { CaseOutputs } from './run-engine.js';
export { canonical, differences } from './compare.js';
