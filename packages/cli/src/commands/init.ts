/**
 * `flinkfn init <dir> --template <name>`: scaffold a project from `templates/<name>`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cp, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { defineCommand } from '../command.js';
import { createOutput } from '../output.js';

/** This package's folder (dist/commands/../..). */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHECKOUT_TEMPLATES = path.resolve(PACKAGE_ROOT, '..', '..', 'templates');
/**
 * The templates: the repository's templates/ when this runs from a source checkout, else the copy the
 * published package carries (scripts/pack-templates.mjs).
 */
export const TEMPLATES_DIRECTORY = existsSync(path.join(CHECKOUT_TEMPLATES, '_ci')) && existsSync(path.resolve(PACKAGE_ROOT, '..', '..', 'pnpm-workspace.yaml'))
  ? CHECKOUT_TEMPLATES
  : path.join(PACKAGE_ROOT, 'templates');
/** flinkfn's packages are released together under one version: the generated project asks for this one's. */
const { version: FLINKFN_VERSION } = createRequire(import.meta.url)('../../package.json') as { version: string };

const CONFIG_FILE = 'flinkfn.config.json';
/**
 * The project's targets, to add remote ones to. No defaultTarget: with none, FLINKFN_FLINK_URL (CI) still picks
 * the environment's target. "$schema" names the copy of @flinkfn/deploy's schema the flinkfn package carries:
 * flinkfn is a direct dependency of the project, so it is at the top of node_modules with npm and pnpm alike.
 */
const STARTER_CONFIG = {
  $schema: './node_modules/flinkfn/schema/config.schema.json',
  targets: { local: { kind: 'local' } },
};

export interface InitArgs {
  dir: string;
  template: string;
  force: boolean;
  json: boolean;
}

/** Templates with their one-line descriptions, read from `templates/<name>/template.json`. */
export function listTemplates(): Array<{ name: string; description: string }> {
  if (!existsSync(TEMPLATES_DIRECTORY)) return [];
  return readdirSync(TEMPLATES_DIRECTORY, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(TEMPLATES_DIRECTORY, entry.name, 'template.json')))
    .map((entry) => {
      const meta = JSON.parse(readFileSync(path.join(TEMPLATES_DIRECTORY, entry.name, 'template.json'), 'utf8')) as { description?: string };
      return { name: entry.name, description: meta.description ?? '' };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export const initCommand = defineCommand({
  command: 'init <dir>',
  describe: 'Create a function project from a template',
  positionals: { dir: { type: 'string', demandOption: true, describe: 'Directory to create; its name becomes the function name' } },
  options: {
    template: { alias: 't', type: 'string', default: 'tumbling-count', describe: 'Template to start from' },
    force: { type: 'boolean', default: false, describe: 'Write into a directory that is not empty' },
  },
  examples: [['$0 init my-counter --template tumbling-count', 'Scaffold a per-minute counter in ./my-counter']],
  // The templates are read when the command's help or arguments are parsed, not when the CLI starts.
  refine: (yargs) => {
    const templates = listTemplates();
    return yargs
      .choices('template', templates.map((t) => t.name))
      .epilogue(`Templates:\n${templates.map((t) => `  ${t.name.padEnd(18)} ${t.description}`).join('\n')}`);
  },
  run: async (args) => {
    await runInit(args);
  },
});

export async function runInit(args: InitArgs): Promise<{ dir: string; name: string; files: string[] }> {
  const out = createOutput(args.json);
  const source = path.join(TEMPLATES_DIRECTORY, args.template);
  if (!existsSync(path.join(source, 'template.json'))) {
    throw new UserError(`there is no template '${args.template}'`, `Choose one of: ${listTemplates().map((t) => t.name).join(', ')}.`);
  }
  const dir = path.resolve(args.dir);
  const name = functionName(path.basename(dir));
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length > 0 && !args.force) {
    throw new UserError(`${args.dir} is not empty`, 'Choose a new directory, or pass --force to write into it (files with the same names are overwritten).');
  }
  await mkdir(dir, { recursive: true });
  await cp(source, dir, { recursive: true, filter: (from) => path.basename(from) !== 'template.json' && path.basename(from) !== 'node_modules' });
  if (existsSync(path.join(dir, '_gitignore'))) await rename(path.join(dir, '_gitignore'), path.join(dir, '.gitignore'));
  // Every project gets the documented CI deploy step.
  await mkdir(path.join(dir, '.github', 'workflows'), { recursive: true });
  await cp(path.join(TEMPLATES_DIRECTORY, '_ci', 'flinkfn-deploy.yml'), path.join(dir, '.github', 'workflows', 'flinkfn-deploy.yml'));
  // The project's targets, unless --force keeps the one there.
  if (!existsSync(path.join(dir, CONFIG_FILE))) await writeFile(path.join(dir, CONFIG_FILE), JSON.stringify(STARTER_CONFIG, null, 2) + '\n');

  const files = await listFiles(dir);
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    if (text.includes('{{name}}')) await writeFile(file, text.replaceAll('{{name}}', name));
  }
  await pinFlinkfnPackages(path.join(dir, 'package.json'));

  const relative = path.relative(process.cwd(), dir) || '.';
  out.info(`created ${name} from template ${args.template} in ${relative}`);
  const pm = packageManager();
  const run = pm === 'npm' ? 'npm run' : pm;
  const steps: Array<[string, string]> = [
    [`cd ${relative}`, ''],
    [`${pm} install`, ''],
    [`${pm} test`, 'unit tests with @flinkfn/testing'],
    [`${run} dev`, 'run data/events.jsonl through the embedded engine'],
    [`${run} deploy`, 'run it on Flink (a local stack starts when no target is configured)'],
  ];
  const width = Math.max(...steps.map(([command]) => command.length)) + 2;
  out.info('next:');
  for (const [command, why] of steps) out.info(`  ${why ? `${command.padEnd(width)}# ${why}` : command}`);
  const relativeFiles = files.map((f) => path.relative(dir, f)).sort();
  out.data({ ok: true, dir, name, template: args.template, files: relativeFiles });
  return { dir, name, files: relativeFiles };
}

/** A valid function name from a directory name: lower case, dashes, starting with a letter. */
export function functionName(base: string): string {
  const cleaned = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '').slice(0, 63);
  return cleaned || 'my-function';
}

/**
 * The template names flinkfn's packages; the project gets the version range of this CLI (`^0.1.0`), so
 * that it installs from the registry the CLI came from.
 */
async function pinFlinkfnPackages(packageJson: string): Promise<void> {
  if (!existsSync(packageJson)) return;
  const manifest = JSON.parse(await readFile(packageJson, 'utf8')) as Record<string, unknown>;
  for (const field of ['dependencies', 'devDependencies']) {
    const deps = manifest[field] as Record<string, string> | undefined;
    if (!deps) continue;
    for (const dependency of Object.keys(deps)) {
      if (dependency.startsWith('@flinkfn/') || dependency === 'flinkfn') deps[dependency] = `^${FLINKFN_VERSION}`;
    }
  }
  await writeFile(packageJson, JSON.stringify(manifest, null, 2) + '\n');
}

/** The package manager that ran this (npm create, pnpm create, yarn create), for the next steps it prints. */
function packageManager(): 'npm' | 'pnpm' | 'yarn' {
  const agent = process.env.npm_config_user_agent ?? '';
  return agent.startsWith('pnpm/') ? 'pnpm' : agent.startsWith('yarn/') ? 'yarn' : 'npm';
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') files.push(...(await listFiles(full)));
    } else if ((await stat(full)).size < 1_000_000) {
      files.push(full);
    }
  }
  return files;
}
