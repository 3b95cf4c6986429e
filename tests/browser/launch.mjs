// What the browser tests share: Debian's chromium on a closed network, with a throwaway profile.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Lines from the Rust side of the test, one at a time. */
export const stdinLines = () => createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** A progress line on stderr (the Rust test passes stderr through). */
export const step = (text) => console.error(`browser: ${text}`);

/** Launches chromium with a fresh profile; `close()` ends it and removes the profile. */
export async function launch(viewport) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'ecr-lab-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Without the background-networking flags, Chromium's own connections are refused on a closed network.
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport,
  });
  const close = async () => {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, close };
}
