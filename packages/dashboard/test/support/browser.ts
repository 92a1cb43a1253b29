/**
 * Chromium from the distribution's packages (scripts/install-chromium), driven by playwright-core.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-chromium (scripts/setup does)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}
