// The web console in a real browser: Debian's chromium driven by playwright-core.
//
//   node tests/browser/console.mjs URL ARTIFACT_DIR
//
// Run by tests/it/console.rs, which serves the mock at URL and talks to this script over stdio:
// this script prints "PUSH <repository>" when the Images tab is open; the Rust side pushes an
// image with the built-in registry client and writes its digest on stdin; the script waits for
// that digest to appear without a reload. Screenshots go to ARTIFACT_DIR. Exit 0 means passed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, step, stdinLines } from './launch.mjs';
import assert from 'node:assert/strict';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node console.mjs URL ARTIFACT_DIR');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const origin = new URL(base).origin;
const host = new URL(base).host;
const REPOSITORY = 'test';
const REGISTRY = '920736617090.dkr.ecr.ap-south-1.amazonaws.com';
const NAME_PATTERN_MESSAGE =
  "Invalid parameter at 'repositoryName' failed to satisfy constraint: " +
  "'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''";

const lines = stdinLines();

const { context, close } = await launch({ width: 1280, height: 800 });

const problems = [];
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  // No request may leave the mock.
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) problems.push(`outside request: ${url}`);
  });
  const shot = async (name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

  step('repositories list');
  await page.goto(`${base}/console/repositories`);
  await page.getByRole('heading', { name: /Private repositories/ }).waitFor();
  assert.match(await page.locator('.account').innerText(), /lab-learner[\s\S]*9207-3661-7090/);

  // Keyboard: the first Tab reaches the skip link, and focus is drawn.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');

  step('create form rejects an invalid name with the service message, before sending it');
  await page.getByRole('link', { name: 'Create repository' }).first().click();
  await page.waitForURL(/\/console\/create-repository/);
  const nameField = page.getByLabel('Repository name');
  await nameField.fill('Test_Repo');
  await page.getByRole('button', { name: 'Create repository' }).click();
  await page.waitForFunction(() => document.getElementById('repositoryName-error').textContent !== '');
  assert.equal(await page.locator('#repositoryName-error').innerText(), NAME_PATTERN_MESSAGE);
  assert.equal(await nameField.getAttribute('aria-invalid'), 'true');
  assert.match(page.url(), /\/console\/create-repository/, 'nothing was submitted');
  await shot('create-invalid-name-1280');

  step('create the guide repository: immutable tags, scan on push, AES-256 (keyboard to submit)');
  await nameField.fill(REPOSITORY);
  assert.equal(await page.locator('#repositoryName-error').innerText(), '', 'the message clears once the name is valid');
  await page.getByLabel(/^Immutable IMMUTABLE$/).check();
  await page.getByLabel('Scan on push').check();
  await page.getByLabel(/^AES-256/).check();
  await nameField.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/console/repositories/${REPOSITORY}\\?`));
  await page.getByText(`Successfully created private repository ${REPOSITORY}.`).waitFor();
  const details = page.locator('.details');
  assert.match(await details.innerText(), /Tag immutability\s+Enabled IMMUTABLE/);
  assert.match(await details.innerText(), /Scan on push\s+Enabled/);
  assert.match(await details.innerText(), /Encryption type\s+AES-256/);
  await shot('repository-empty-1280');

  step('an image pushed meanwhile appears in the Images tab without a reload');
  await page.evaluate(() => { window.stillTheSamePage = true; });
  const pushed = async (tag) => {
    console.log(`PUSH ${REPOSITORY} ${tag}`);
    const { value: digest } = await lines.next();
    assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/, 'the test sends the pushed digest');
    const row = page.locator('#images-body tr', { has: page.locator('code.digest', { hasText: digest }) });
    await row.waitFor({ timeout: 20000 });
    return { digest, row };
  };
  const { digest, row } = await pushed('v1');
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'the page was not reloaded');
  assert.match(await row.innerText(), /v1/);
  // The repository scans on push; this test's layer is not a tar, so the scan ends FAILED, and the
  // live table shows it without a reload.
  assert.match(await row.innerText(), /In progress|Failed/);
  await row.filter({ hasText: 'Failed' }).waitFor({ timeout: 20000 });
  assert.equal(await page.locator('[data-live-count="images"]').innerText(), '(1)');
  await shot('images-live-1280');

  step('a ticked, focused checkbox stays ticked and focused when the next push arrives');
  const box = row.locator('input[type="checkbox"]');
  await box.focus();
  await page.keyboard.press('Space');
  await pushed('v2');
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'the page was not reloaded');
  assert.equal(await page.locator('[data-live-count="images"]').innerText(), '(2)');
  assert.equal(await box.isChecked(), true);
  assert.equal(await box.evaluate((element) => element === document.activeElement), true);
  await box.uncheck();

  step('View push commands');
  await page.getByRole('link', { name: 'View push commands' }).first().click();
  const dialog = page.locator('dialog#push-commands');
  await dialog.waitFor({ state: 'visible' });
  const commands = await dialog.innerText();
  for (const command of [
    `aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin ${REGISTRY}`,
    `docker tag sohelqt8797/ec2-neon-pulse:v1 ${REGISTRY}/${REPOSITORY}:v1`,
    `docker push ${REGISTRY}/${REPOSITORY}:v1`,
    `docker push ${host}/${REPOSITORY}:v1`,
  ]) {
    assert.ok(commands.includes(command), `push commands include: ${command}`);
  }
  await shot('push-commands-1280');
  // Opening the dialog is the learner's action a lesson checks: the mock's request log has it.
  await page.waitForFunction(async (repository) => {
    const log = await (await fetch('/_lab/requests?since=0')).json();
    return log.some((r) => r.api === 'console:push-commands' && r.repository === repository && r.status === 200);
  }, REPOSITORY);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });

  step('image details with the manifest');
  await row.getByRole('link', { name: 'v1', exact: true }).click();
  await page.getByRole('heading', { name: 'Manifest' }).waitFor();
  assert.ok((await page.locator('.details').innerText()).includes(digest));
  assert.match(await page.locator('pre.manifest').innerText(), /"schemaVersion": 2/);
  await shot('image-details-1280');

  step('1024 px (a projector): no sideways scrolling');
  await page.setViewportSize({ width: 1024, height: 768 });
  for (const [name, path] of [
    ['repositories', '/console/repositories'],
    ['create-repository', '/console/create-repository'],
    ['repository', `/console/repositories/${REPOSITORY}`],
  ]) {
    await page.goto(`${base}${path}`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1024, `${path} is ${width} px wide at 1024 px`);
    const scrolling = await page.evaluate(() =>
      [...document.querySelectorAll('.table-wrap')].filter((wrap) => wrap.scrollWidth > wrap.clientWidth).length);
    assert.equal(scrolling, 0, `${path}: its tables fit at 1024 px`);
    await shot(`${name}-1024`);
  }

  step('forced colours (high contrast)');
  await page.emulateMedia({ forcedColors: 'active' });
  await page.goto(`${base}/console/repositories/${REPOSITORY}`);
  assert.equal(await page.evaluate(() => matchMedia('(forced-colors: active)').matches), true);
  await shot('repository-forced-colors-1024');

  assert.deepEqual(problems, [], 'no script errors and no outside requests');
  step('passed');
} finally {
  await close();
}
process.exit(0);
