/**
 * Where `flinkfn dev` and `flinkfn deploy` take setting values from on the command line (`--set name=value`, which
 * may repeat) and, for dev, the project's `.dev.vars` file (`name=value` lines; init's .gitignore excludes it), as
 * wrangler's `.dev.vars` works for its local development.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from './errors.js';

export const DEV_VARS_FILE = '.dev.vars';

/** The option both commands declare. */
export const SET_OPTION = {
  type: 'string',
  array: true,
  describe: 'A plain setting of the function: --set name=value (repeat for more). Secrets come from FLINKFN_SECRET_<NAME> (dev: also .dev.vars)',
} as const;

/** `--set a=1 --set b=2` as values by name; a value may contain `=`. */
export function parseSetOptions(values: ReadonlyArray<string | number> | undefined): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const raw of values ?? []) {
    const text = String(raw);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${text}: expected name=value`, 'For example --set customersUrl=http://api.internal:8080');
    const name = text.slice(0, eq);
    if (name in settings) throw new UserError(`--set ${name} is given twice`, 'Give each setting once.');
    settings[name] = text.slice(eq + 1);
  }
  return settings;
}

/**
 * The `.dev.vars` file of a project: `name=value` per line (setting names, as declared), `#` comments, blank lines;
 * a value in matching single or double quotes loses them. Empty when the file does not exist.
 */
export async function readDevVars(root: string): Promise<{ file: string; values: Record<string, string> }> {
  const file = path.resolve(root, DEV_VARS_FILE);
  if (!existsSync(file)) return { file, values: {} };
  const values: Record<string, string> = {};
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const eq = trimmed.indexOf('=');
    const name = eq > 0 ? trimmed.slice(0, eq).trim() : '';
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      // Never quote the line: it may hold a secret.
      throw new UserError(`${file}:${index + 1}: expected name=value`, 'Write one setting per line, e.g. apiToken=abc123, with the name as the function declares it.');
    }
    let value = trimmed.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    values[name] = value;
  });
  return { file, values };
}
