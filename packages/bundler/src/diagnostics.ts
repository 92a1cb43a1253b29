/**
 * Build errors for humans: what is wrong, where (file:line:col with the offending line), how to fix it.
 */
import type { DeclarationError } from '@flinkfn/sdk';

/**
 * One problem found while building.
 *
 * @example
 * const d: Diagnostic = { file: 'src/handler.ts', line: 3, column: 9, message: "window.size: '-5s' is negative" };
 */
export interface Diagnostic {
  file?: string;
  line?: number;
  /** 1-based. */
  column?: number;
  lineText?: string;
  message: string;
  hint?: string;
}

/**
 * A build that failed because of the user's code or declaration (exit code 1, no stack trace).
 *
 * @example
 * catch (e) { if (e instanceof BuildError) console.error(formatDiagnostics(e.diagnostics)) }
 */
export class BuildError extends Error {
  override readonly name = 'BuildError';
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('\n'));
    this.diagnostics = diagnostics;
  }

  /** The diagnostics as compiler-style text. */
  render(): string {
    return formatDiagnostics(this.diagnostics);
  }
}

/**
 * Renders diagnostics like compilers do:
 *
 *   src/handler.ts:7:17: error: window.size: '-5s' is negative
 *       7 |   window: tumbling('-5s'),
 *         |                    ^
 *     hint: Write a non-negative duration such as '500ms', ...
 *
 * @example
 * process.stderr.write(formatDiagnostics(error.diagnostics));
 */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map(formatDiagnostic).join('\n');
}

function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}: ` : '';
  const lines = [`${where}error: ${d.message}`];
  if (d.line !== undefined && d.lineText !== undefined) {
    const gutter = String(d.line);
    lines.push(`  ${gutter} | ${d.lineText}`);
    if (d.column !== undefined) lines.push(`  ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, d.column - 1))}^`);
  }
  if (d.hint) lines.push(...d.hint.split('\n').map((line, i) => (i === 0 ? `  hint: ${line}` : `  ${line}`)));
  return lines.join('\n') + '\n';
}

/**
 * Best-effort position of a declaration error in the handler's source: the offending string literal, the
 * unknown key, the option named by the error path, or the `defineFunction(` call.
 */
export function locateInSource(
  source: string,
  error: DeclarationError,
): Pick<Diagnostic, 'line' | 'column' | 'lineText'> {
  const lastSegment = error.path.split('.').at(-1) ?? '';
  const candidates: RegExp[] = [];
  if (typeof error.value === 'string' && error.value !== lastSegment) {
    const escaped = escapeRegExp(error.value);
    candidates.push(new RegExp(`(['"\`])${escaped}\\1`));
  }
  if (lastSegment) candidates.push(new RegExp(`\\b${escapeRegExp(lastSegment)}\\s*[:(]`));
  const parent = error.path.split('.').at(-2);
  if (parent) candidates.push(new RegExp(`\\b${escapeRegExp(parent)}\\s*[:(]`));
  candidates.push(/\bdefineFunction\s*(<[^>]*>)?\s*\(/);
  for (const pattern of candidates) {
    const match = pattern.exec(source);
    if (match) return position(source, match.index);
  }
  return {};
}

function position(source: string, index: number): Pick<Diagnostic, 'line' | 'column' | 'lineText'> {
  const before = source.slice(0, index);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = source.indexOf('\n', index);
  return { line, column: index - lineStart + 1, lineText: source.slice(lineStart, lineEnd === -1 ? undefined : lineEnd) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
