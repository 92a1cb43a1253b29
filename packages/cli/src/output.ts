/**
 * Where commands write: results to stdout (human text, or one JSON document / JSON lines with --json),
 * progress and warnings to stderr, so `--json` output stays parseable.
 */
export interface Output {
  json: boolean;
  /** A line of human output (suppressed with --json). */
  info(line: string): void;
  /** Progress on a long step; stderr, only on a terminal and not with --json. */
  progress(line: string): void;
  /** A machine-readable document or JSON line (only with --json). */
  data(value: unknown): void;
  warn(line: string): void;
}

export function createOutput(json: boolean): Output {
  const interactive = process.stderr.isTTY === true && !json;
  return {
    json,
    info: (line) => {
      if (!json) process.stdout.write(line + '\n');
    },
    progress: (line) => {
      if (interactive) process.stderr.write(`› ${line}\n`);
    },
    data: (value) => {
      if (json) process.stdout.write(JSON.stringify(value) + '\n');
    },
    warn: (line) => process.stderr.write(`warning: ${line}\n`),
  };
}

/** Bytes as a short human size. */
export function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
