/**
 * A deployment's setting values: plain ones from the target's `settings` in flinkfn.config.json and `deploy --set`
 * (they travel with the job as arguments and are kept in the version's record), secrets from `FLINKFN_SECRET_<NAME>`
 * environment variables at deploy time, written to one object per version next to the deployment's state, which the
 * job reads at open() on the TaskManagers. The record lists that object as a resource (so destroy, the controller and
 * gc delete it with the deployment) by key, digest and the secrets' names, never their values.
 */
import { createHash, randomBytes } from 'node:crypto';
import { resolveSettings, secretEnvName, SettingsError, type Manifest, type ManifestSetting } from '@flinkfn/sdk';
import { closest } from '@flinkfn/sdk/did-you-mean';
import type { ResolvedTarget } from '../config.js';
import { DeployError } from '../errors.js';
import { secretsKey, type Deployment, type VersionSecrets } from '../registry.js';
import type { Session } from '../session.js';

/** The values a version runs with, split by where they go. */
export interface DeploySettings {
  /** Plain settings given for this deployment (defaults are left to the sidecar). */
  plain: Record<string, string>;
  /** Secret values, by setting name; written only to the secrets object. */
  secrets: Record<string, string>;
}

export const SECRETS_FORMAT = 'flinkfn-secrets';

/**
 * Collects the values for `manifest`'s settings and checks that every required one has one, before anything is
 * created: `--set` (strict: an undeclared name is an error) over the target's `settings` (shared by a project's
 * functions, so names another function declares are skipped), and secrets from the environment.
 */
export function settingsForDeploy(manifest: Manifest, target: ResolvedTarget, set: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv): DeploySettings {
  const declared = manifest.settings ?? [];
  const names = declared.map((s) => s.name);
  for (const name of Object.keys(set)) {
    const setting = declared.find((s) => s.name === name);
    if (!setting) {
      const near = closest(name, names);
      throw new DeployError(`--set ${name}: the function ${manifest.name} declares no setting '${name}'`, {
        step: 'settings',
        hint: `${near ? `Did you mean '${near}'? ` : ''}${names.length ? `Its settings: ${names.join(', ')}.` : 'It declares no settings.'}`,
      });
    }
    if (setting.secret) throw secretOnCommandLine(setting, `--set ${name}`);
  }
  for (const name of Object.keys(target.settings)) {
    const setting = declared.find((s) => s.name === name);
    if (setting?.secret) throw secretOnCommandLine(setting, `"settings" of the target ${target.name} (${target.source})`);
  }
  const plain: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const setting of declared) {
    if (setting.secret) {
      const value = env[secretEnvName(setting.name)];
      if (value !== undefined && value !== '') secrets[setting.name] = value;
    } else {
      const value = set[setting.name] ?? target.settings[setting.name];
      if (value !== undefined) plain[setting.name] = value;
    }
  }
  try {
    resolveSettings(declared, { ...plain, ...secrets }, (missing) => howToGive(missing, target));
  } catch (error) {
    if (error instanceof SettingsError) throw new DeployError(error.message, { step: 'settings', hint: error.hint });
    throw error;
  }
  return { plain, secrets };
}

function secretOnCommandLine(setting: ManifestSetting, where: string): DeployError {
  return new DeployError(`${where}: '${setting.name}' is a secret, and secrets are not given there`, {
    step: 'settings',
    hint: `Export ${secretEnvName(setting.name)} in the environment of flinkfn deploy; command lines and config files end up in shell histories and repositories.`,
  });
}

function howToGive(missing: readonly ManifestSetting[], target: ResolvedTarget): string {
  return missing.map((s) => s.secret
    ? `export ${secretEnvName(s.name)}=<value> before flinkfn deploy`
    : `pass --set ${s.name}=<value>, or add "settings": { "${s.name}": "<value>" } to the target ${target.name} in flinkfn.config.json`).join('; ') + '.';
}

/**
 * Writes a version's secrets object (intended in the record first, created after) and returns where it is; null when
 * the function declares no secrets. A nonce makes the recorded digest useless for checking a guessed value.
 */
export async function writeSecrets(session: Session, deployment: Deployment, version: number, secrets: Readonly<Record<string, string>>): Promise<VersionSecrets | null> {
  const names = Object.keys(secrets);
  if (names.length === 0) return null;
  const body = JSON.stringify({ format: SECRETS_FORMAT, nonce: randomBytes(16).toString('hex'), values: secrets }) + '\n';
  const sha256 = createHash('sha256').update(body).digest('hex');
  const key = secretsKey(deployment.name, version);
  const resource = await deployment.intend('s3-object', key, { lifecycle: 'ephemeral', version, role: 'secrets', sha256 });
  await session.store.putText(key, body);
  await deployment.mark(resource, 'created');
  return { object: key, sha256, names };
}
