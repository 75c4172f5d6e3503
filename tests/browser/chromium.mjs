// What every browser check shares: the settings run.sh passes, and
// Chromium started the way this machine needs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/// The environment variable `name` that run.sh passes to `script`; exits
/// with 2 when it is not set.
export function need(script, name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${script}: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

// Flags this machine's Chromium needs (no sandbox as root, no GPU, and no
// background traffic to hosts the closed network refuses).
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/// Headless Chromium with a throwaway profile and `options` (e.g. a
/// viewport); `close()` ends it and removes the profile.
export async function launchWithProfile(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'tollgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}
