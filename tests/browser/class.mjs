// The instructor's class dashboard in a real browser: Debian's chromium driven by playwright-core.
//
//   node tests/browser/class.mjs URL ARTIFACT_DIR
//
// Run by tests/it/class_dashboard.rs, which serves a class at URL and talks to this script over
// stdio: it first writes "TOKEN <instructor token>"; then this script prints one command a line
// (JOIN NAME, PROGRESS NAME LESSON STAGE EVENT, ADVANCE DURATION, REPO NAME, MEET NAME, HAS NAME,
// STOP) and the Rust side answers each with one line ("ok ..." or "no ..."). Screenshots go to
// ARTIFACT_DIR. Exit 0 means passed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { launch, step, stdinLines } from './launch.mjs';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node class.mjs URL ARTIFACT_DIR');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const origin = new URL(base).origin;
const lines = stdinLines();
const next = async () => (await lines.next()).value ?? '';
const first = await next();
assert.match(first, /^TOKEN \S+$/, 'the test starts by giving the instructor token');
const token = first.slice('TOKEN '.length);

/** Asks the Rust side for a server-side step and returns its answer. */
async function ask(command) {
  console.log(command);
  const answer = await next();
  assert.match(answer, /^ok\b/, `${command}: ${answer}`);
  return answer.slice(2).trim();
}

const LESSON = '00-quick-start';
const row = (name) => `#grid tbody tr[data-name="${name}"]`;
const cell = (name, stage) => `${row(name)} td[data-stage="${LESSON}/${stage}"] .mark`;

const { context, close } = await launch({ width: 1280, height: 800 });
const problems = [];
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    // A refused sign-in (401) and the stopped server are expected to log failed loads.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) problems.push(`outside request: ${url}`);
    if (url.includes(token)) problems.push(`the token is in a URL: ${url}`);
  });
  const shot = async (name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  const cellIs = async (name, stage, letter, status) => {
    await page.waitForFunction(([selector, letter, status]) => {
      const mark = document.querySelector(selector);
      return mark && mark.textContent === letter && mark.classList.contains(`s-${status}`);
    }, [cell(name, stage), letter, status]);
  };

  step('sign in: a wrong token is refused with what to do, the right one opens the dashboard');
  await page.goto(`${base}/class/`);
  await page.getByLabel('Instructor token').fill('ecrlab-not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText("That is not this class's instructor token").waitFor();
  await shot('sign-in-refused');
  await page.getByLabel('Instructor token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/class/`);
  await page.locator('#live', { hasText: 'Live' }).waitFor();
  assert.equal(await page.locator('#class-name').innerText(), 'ECR seminar');
  await page.getByText('No student has joined yet').waitFor();
  const cookies = await context.cookies();
  const cookie = cookies.find((c) => c.name === 'ecrlab_class');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/class', JSON.stringify(cookies));
  assert.equal(await page.evaluate(() => document.cookie), '', 'the script cannot read the cookie');

  step('students appear without a reload');
  await ask('JOIN ana');
  await ask('JOIN bruno');
  await page.locator(row('ana')).waitFor();
  await page.locator(row('bruno')).waitFor();
  assert.match(await page.locator(`${row('ana')} td.now`).innerText(), /idle/);

  step('a stage finished turns its cell done (D), the next one working (W)');
  await ask(`PROGRESS ana ${LESSON} 0 stage-started`);
  await cellIs('ana', 0, 'W', 'working');
  await ask(`PROGRESS ana ${LESSON} 0 check-passed`);
  await ask(`PROGRESS ana ${LESSON} 1 stage-started`);
  await cellIs('ana', 0, 'D', 'done');
  await cellIs('ana', 1, 'W', 'working');
  await ask(`PROGRESS bruno ${LESSON} 0 stage-started`);
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === '1', `#grid tfoot td[data-count="${LESSON}/0/done"]`);
  await shot('grid-live');

  step('past stuckAfterMinutes both are stuck, longest first');
  await ask('ADVANCE 6m');
  await cellIs('ana', 1, 'S', 'stuck');
  await page.waitForFunction(() => document.querySelectorAll('#stuck-list li').length === 2);
  const stuck = await page.locator('#stuck-list li').evaluateAll((items) => items.map((li) => li.dataset.name));
  assert.deepEqual(stuck.sort(), ['ana', 'bruno']);
  assert.match(await page.locator('#stuck-list').innerText(), /6 min/);
  await page.locator('#live', { hasText: 'class clock' }).waitFor(); // the lab clock is 6 min ahead
  assert.match(await page.locator('#stuck-list').innerText(), /Quick start, stage 2: Log in/);
  await shot('stuck');

  step('filters: status and name');
  await page.getByLabel('Status', { exact: true }).selectOption('stuck');
  await page.getByLabel('Name', { exact: true }).fill('BRU');
  await page.waitForFunction(() => document.querySelectorAll('#grid tbody tr').length === 1);
  assert.equal(await page.locator('#grid tbody tr').getAttribute('data-name'), 'bruno');
  await page.getByLabel('Name', { exact: true }).fill('');
  await page.getByLabel('Status', { exact: true }).selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('#grid tbody tr').length === 2);
  await page.getByLabel('Lesson', { exact: true }).selectOption('01-tags');
  await page.getByText('No student matches the filters.').waitFor();
  assert.equal(await page.locator('#grid thead th.lesson').allInnerTexts().then((t) => t.join('|')), 'Tags');
  await page.getByLabel('Lesson', { exact: true }).selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('#grid tbody tr').length === 2);

  step('keyboard focus stays on a name while the grid redraws');
  await page.locator(`${row('bruno')} button.student-button`).focus();
  const drawn = await page.locator(row('bruno')).elementHandle();
  await page.waitForFunction((old) => !old.isConnected, drawn); // the grid was redrawn since
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.name), 'bruno');

  step('arm missing-repo for ana only, from the page');
  await ask('REPO ana');
  await ask('REPO bruno');
  await page.locator(`${row('ana')} button.student-button`).click();
  await page.locator('#detail-repositories', { hasText: 'test' }).waitFor();
  await page.getByLabel('Fault', { exact: true }).selectOption('missing-repo');
  assert.ok(await page.locator('#target-student').isChecked(), 'the selected student is the target');
  await page.getByRole('button', { name: 'Arm' }).click();
  await page.locator('#fault-result', { hasText: 'Armed missing-repo for ana.' }).waitFor();
  assert.doesNotMatch(await page.locator('#fault-result').innerText(), /bruno/);
  assert.equal(await ask('HAS bruno'), 'yes', "bruno's repository is untouched");
  assert.equal(await ask('HAS ana'), 'no', "ana's repository is gone");

  step("ana moves on and meets the error; the dashboard shows it as her last error");
  await ask(`PROGRESS ana ${LESSON} 1 check-passed`);
  await ask(`PROGRESS ana ${LESSON} 2 stage-started`);
  await cellIs('ana', 1, 'D', 'done');
  const met = await ask('MEET ana');
  await page.locator('[data-testid="last-error"]', { hasText: met }).waitFor();
  await cellIs('ana', 2, 'E', 'error');
  const detail = await page.locator('#detail').innerText();
  assert.match(detail, /does not exist in the registry with id/);
  assert.match(detail, /missing-repo/, 'the armed fault is listed');
  await page.locator('#detail-requests tr.failed').first().waitFor();
  await shot('fault-met');

  step('clear puts the repository back (empty); a fault for all students reaches both');
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.locator('#fault-result', { hasText: 'Cleared missing-repo for ana.' }).waitFor();
  assert.equal(await ask('HAS ana'), 'yes', "ana's repository is back");
  await page.getByLabel('Fault', { exact: true }).selectOption('immutable-overwrite');
  await page.getByLabel('All students').check();
  await page.getByRole('button', { name: 'Arm' }).click();
  await page.locator('#fault-result', { hasText: 'Armed immutable-overwrite for all students.' }).waitFor();
  const applied = await page.locator('#fault-result li').allInnerTexts();
  assert.deepEqual(applied.map((line) => line.split(':')[0]).sort(), ['ana', 'bruno'], applied.join('\n'));
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.locator('#fault-result', { hasText: 'Cleared immutable-overwrite for all students.' }).waitFor();

  step('large type for the projector, remembered after a reload');
  await page.getByRole('button', { name: 'Large type' }).click();
  assert.equal(await page.getByRole('button', { name: 'Large type' }).getAttribute('aria-pressed'), 'true');
  await page.reload();
  await page.locator(row('ana')).waitFor();
  assert.ok(await page.evaluate(() => document.body.classList.contains('large')), 'large type survives a reload');
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  assert.ok(size >= 22, `large type is large (${size}px)`);
  await shot('large-type');

  step('the server stops: the page says so');
  await ask('STOP');
  await page.locator('#offline', { hasText: 'not answering' }).waitFor();
  assert.equal(await page.locator('#live').innerText(), 'Server unreachable');
  await shot('server-unreachable');

  assert.deepEqual(problems, []);
  step('passed');
} finally {
  await close();
}
process.exit(0);
