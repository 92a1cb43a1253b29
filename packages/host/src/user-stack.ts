/**
 * Where user code threw, as a dead letter says it: the stack frames in the function's own source files, source-mapped
 * and relative to its project (`priceOf (src/pricing.ts:12:7)`), innermost first.
 *
 * Bundles are imported from one folder (`moduleCacheDirectory`) with their source map inline, and the bundler writes
 * the map's sources relative to the project root; so Node, which resolves sources against the module's file, prints
 * a frame of the user's `src/pricing.ts` as `<module folder>/src/pricing.ts:12:7`. Frames elsewhere (the host, Node's
 * internals, the SDK, bundled packages under node_modules) are not the user's and are left out.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The most frames a dead letter carries: enough to see the call path, short enough for a Kafka record. */
const MAX_FRAMES = 10;

/** `at name (location:line:column)` or `at location:line:column`, as V8 prints a frame. */
const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;

/** The default folder, computed once: `os.userInfo()` is a system call, and dead letters may be many. */
let defaultFolder: string | undefined;

/** Where imported bundles are written; one file per bundle hash, so re-imports are cached by Node. */
export function moduleCacheDirectory(): string {
  return process.env['FLINKFN_CACHE_DIR'] ?? (defaultFolder ??= path.join(os.tmpdir(), `flinkfn-modules-${os.userInfo().uid}`));
}

/**
 * The user's frames of a thrown error, or undefined when it has none (not an Error, or thrown outside the user's
 * files).
 *
 * @example
 * userStack(error) // ['priceOf (src/pricing.ts:12:7)', 'Object.handle (src/handler.ts:9:20)']
 */
export function userStack(error: unknown): string[] | undefined {
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : undefined;
  if (stack === undefined) return undefined;
  const folder = moduleCacheDirectory() + path.sep;
  const frames: string[] = [];
  for (const line of stack.split('\n')) {
    const frame = FRAME.exec(line);
    if (!frame) continue;
    const [, name, location = '', lineNumber, column] = frame;
    const file = location.startsWith('file://') ? fileURLToPath(location) : location;
    if (!file.startsWith(folder)) continue;
    const relative = file.slice(folder.length).split(path.sep).join('/');
    // The bundle itself (an unmapped position) and bundled packages are not the user's files.
    if (relative.endsWith('.mjs') && !relative.includes('/') || relative.split('/').includes('node_modules')) continue;
    const where = `${relative}:${lineNumber}:${column}`;
    frames.push(name === undefined ? where : `${name} (${where})`);
    if (frames.length === MAX_FRAMES) break;
  }
  return frames.length > 0 ? frames : undefined;
}
