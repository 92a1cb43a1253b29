/**
 * Settings and secrets: values a function reads through `ctx.settings`, declared by name in `defineFunction` and
 * given by whoever runs it, the same way everywhere: `flinkfn dev` (`--set`, `.dev.vars`, environment), the test
 * harness (`harness(fn, { settings })`) and `flinkfn deploy` (target config, `--set`, environment). A plain setting may
 * have a default, which is in the manifest; a secret has none, and its value is never written into an artifact, a
 * deployment record or the Flink job's configuration (docs/architecture.md, "Settings and secrets").
 */
import { closest } from './did-you-mean.js';
import { describeValue } from './duration.js';
import { DeclarationError } from './errors.js';
import type { ManifestSetting } from './manifest.js';

/**
 * One setting of a function: a plain value with an optional default, or a secret (no default, given at deploy or
 * dev time from the environment).
 *
 * @example
 * const customersUrl: SettingDeclaration = { default: 'http://127.0.0.1:8787', description: 'customer API' };
 * const apiToken: SettingDeclaration = { secret: true };
 */
export interface SettingDeclaration {
  /** The value when none is given (plain settings only). Without one the setting is required. */
  readonly default?: string;
  /** A secret: required, never in the manifest, the deployment record or the job's configuration. */
  readonly secret?: boolean;
  /** What it is for; shown in error messages. */
  readonly description?: string;
}

/**
 * The `settings` of a declaration, by name (a name is a JavaScript identifier: letters, digits and `_`).
 *
 * @example
 * const settings: SettingsDeclaration = { customersUrl: { default: 'http://127.0.0.1:8787' }, apiToken: { secret: true } };
 */
export type SettingsDeclaration = Readonly<Record<string, SettingDeclaration>>;

/**
 * What `ctx.settings` holds for a declaration: every declared setting as a string (a missing value fails before the
 * function starts, so none is undefined).
 *
 * @example
 * type S = SettingsOf<{ customersUrl: { default: 'x' } }>; // { readonly customersUrl: string }
 */
export type SettingsOf<S> = { readonly [K in keyof S]: string };

/** Names: JavaScript identifiers (so `ctx.settings.name` works), at most 63 characters. */
export const SETTING_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/**
 * The environment variable a secret (or, for `flinkfn dev`, any setting) is read from: `FLINKFN_SECRET_` and the
 * name in upper snake case.
 *
 * @example
 * secretEnvName('apiToken'); // 'FLINKFN_SECRET_API_TOKEN'
 */
export function secretEnvName(name: string): string {
  return `FLINKFN_SECRET_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/** Validates `settings` of a declaration (DeclarationError with path and hint); the manifest's list, in name order. */
export function validateSettings(value: unknown): ManifestSetting[] {
  if (value === undefined) return [];
  const example = `For example settings: { customersUrl: { default: 'http://127.0.0.1:8787' }, apiToken: { secret: true } }.`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DeclarationError('settings', `expected an object, got ${describeValue(value)}`, example);
  }
  const envNames = new Map<string, string>();
  const settings: ManifestSetting[] = [];
  for (const [name, raw] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const path = `settings.${name}`;
    if (!SETTING_NAME_PATTERN.test(name)) {
      throw new DeclarationError(path, `'${name}' is not a valid setting name`,
        'Use letters, digits and underscores, starting with a letter (a JavaScript identifier, so ctx.settings.name works).', name);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new DeclarationError(path, `expected an object, got ${describeValue(raw)}`,
        `Write ${path}: { default: 'value' } for a plain setting, or { secret: true } for a secret.`, raw);
    }
    const declaration = raw as Record<string, unknown>;
    const allowed = ['default', 'secret', 'description'];
    for (const key of Object.keys(declaration)) {
      if (!allowed.includes(key)) {
        const suggestion = closest(key, allowed);
        throw new DeclarationError(`${path}.${key}`, `unknown option '${key}'`,
          `${suggestion ? `Did you mean '${suggestion}'? ` : ''}Known options here: ${allowed.join(', ')}.`, key);
      }
    }
    const secret = declaration['secret'] ?? false;
    if (typeof secret !== 'boolean') {
      throw new DeclarationError(`${path}.secret`, `expected true or false, got ${describeValue(secret)}`, 'Write secret: true, or leave it out.', secret);
    }
    const fallback = declaration['default'];
    if (fallback !== undefined && typeof fallback !== 'string') {
      throw new DeclarationError(`${path}.default`, `expected a string, got ${describeValue(fallback)}`,
        `Settings are strings: write default: '${String(fallback)}' and convert in the handler.`, fallback);
    }
    if (secret && fallback !== undefined) {
      throw new DeclarationError(`${path}.default`, 'a secret cannot have a default',
        `A default is written into the artifact for everyone to read. Remove it and give the value in ${secretEnvName(name)} (or .dev.vars for flinkfn dev).`, fallback);
    }
    const description = declaration['description'];
    if (description !== undefined && typeof description !== 'string') {
      throw new DeclarationError(`${path}.description`, `expected a string, got ${describeValue(description)}`, 'Describe the setting in a few words, or leave it out.', description);
    }
    const envName = secretEnvName(name);
    const clash = envNames.get(envName);
    if (clash !== undefined) {
      throw new DeclarationError(path, `'${name}' and '${clash}' are both read from ${envName}`,
        'Rename one of them: setting names must differ in more than letter case and underscores.', name);
    }
    envNames.set(envName, name);
    settings.push({ name, secret, default: fallback ?? null, ...(description !== undefined ? { description } : {}) });
  }
  return settings;
}

/**
 * A setting without a value, or a value for a setting the function does not declare. `setting` names it; `hint`
 * says how to give it where the function runs.
 *
 * @example
 * catch (e) { if (isSettingsError(e)) console.error(e.message, e.hint) }
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(message: string, readonly setting: string, readonly hint: string) {
    super(message);
  }
}

/**
 * Whether `error` is a {@link SettingsError} from any copy of the SDK.
 *
 * @example
 * if (isSettingsError(error)) process.exitCode = 1;
 */
export function isSettingsError(error: unknown): error is SettingsError {
  return error instanceof Error && error.name === 'SettingsError' && typeof (error as Partial<SettingsError>).setting === 'string';
}

/**
 * The values of every declared setting: the given ones, else the defaults. Throws a {@link SettingsError} naming
 * every missing value (`howToGive(missing)` is the hint) or a value given for an undeclared name.
 *
 * @example
 * resolveSettings(manifest.settings ?? [], { customersUrl: 'http://api:8080' }, (missing) => `pass --set ${missing[0]!.name}=...`);
 */
export function resolveSettings(
  declared: readonly ManifestSetting[],
  given: Readonly<Record<string, string>>,
  howToGive: (missing: readonly ManifestSetting[]) => string,
): Record<string, string> {
  const names = declared.map((s) => s.name);
  for (const [name, value] of Object.entries(given)) {
    if (!names.includes(name)) {
      const suggestion = closest(name, names);
      throw new SettingsError(`a value was given for '${name}', which the function does not declare`, name,
        `${suggestion ? `Did you mean '${suggestion}'? ` : ''}${names.length > 0 ? `Declared settings: ${names.join(', ')}.` : 'The function declares no settings.'}`);
    }
    if (typeof value !== 'string') {
      throw new SettingsError(`the value of '${name}' is ${describeValue(value)}, not a string`, name, 'Settings are strings; convert them in the handler.');
    }
  }
  const values: Record<string, string> = {};
  const missing: ManifestSetting[] = [];
  for (const setting of declared) {
    const value = given[setting.name] ?? setting.default;
    if (value === null || value === undefined) missing.push(setting);
    else values[setting.name] = value;
  }
  const first = missing[0];
  if (first) {
    const list = missing.map((s) => `'${s.name}'${s.secret ? ' (secret)' : ''}${s.description ? ` (${s.description})` : ''}`).join(', ');
    throw new SettingsError(`no value for the setting${missing.length > 1 ? 's' : ''} ${list}`, first.name, howToGive(missing));
  }
  return values;
}
