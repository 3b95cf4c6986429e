// The private registry settings page in a real browser: reached from the side navigation, every
// section there (pull through cache, replication, registry policy, templates, signing, exclusions,
// account settings), and readable on a phone-sized screen without sideways scrolling of the page.
//
//   node tests/browser/registry-settings.mjs URL ARTIFACT_DIR
//
// Run by tests/it/console.rs, which serves the mock at URL with a pull through cache rule, a
// replication rule, a registry policy and a creation template. Screenshots go to ARTIFACT_DIR.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { launch, step } from './launch.mjs';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node registry-settings.mjs URL ARTIFACT_DIR');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const sections = [
  /Pull through cache rules \(1\)/, /Replication rules \(1\)/, /Registry permissions/,
  /Repository creation templates/, /Managed signing/, /Pull-time update exclusions/, /Account settings/,
];

for (const [width, height] of [[1280, 900], [390, 844]]) {
  const { context, close } = await launch({ width, height });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(15000);
    step(`${width}px: the side navigation leads to the settings`);
    await page.goto(`${base}/console/repositories`);
    await page.getByRole('link', { name: 'Private registry settings' }).click();
    await page.getByRole('heading', { name: 'Private registry settings', level: 1 }).waitFor();
    const headings = await page.getByRole('heading', { level: 2 }).allInnerTexts();
    for (const wanted of sections) {
      assert.ok(headings.some((h) => wanted.test(h)), `${wanted} among ${JSON.stringify(headings)}`);
    }
    const body = await page.locator('main').innerText();
    assert.match(body, /public\.ecr\.aws/);
    assert.match(body, /us-west-2 \(920736617090\)/);
    assert.match(body, /ecr:ReplicateImage/);
    assert.match(body, /prod/);
    await page.screenshot({ path: join(artifacts, `registry-settings-${width}.png`), fullPage: true });
    step(`${width}px: the page itself does not scroll sideways`);
    const wide = await page.evaluate(() => [...document.querySelectorAll('main *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 3).map((e) => `${e.tagName}.${e.className}: ${e.textContent.slice(0, 40)}`));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the ${width}px screen: ${JSON.stringify(wide)}`);
  } finally {
    await close();
  }
}
step('passed');
