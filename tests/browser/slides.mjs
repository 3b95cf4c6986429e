// The seminar deck in a real browser: Debian's chromium driven by playwright-core.
//
//   node tests/browser/slides.mjs URL ARTIFACT_DIR
//
// Run by tests/it/slides.rs, which starts `ecr-lab slides` at URL and talks to this script over
// stdio: the script prints "CREATE <repository> <tag>" when the live panels are on screen; the Rust
// side creates the repository and puts an image through the ECR API and answers "done". Screenshots
// and a PDF of the handout go to ARTIFACT_DIR. Exit 0 means passed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, step, stdinLines } from './launch.mjs';
import assert from 'node:assert/strict';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node slides.mjs URL ARTIFACT_DIR');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const origin = new URL(base).origin;
const REPOSITORY = 'test';
const TAG = 'v1';
const MISSING_REPO =
  "RepositoryNotFoundException: The repository with name 'test' does not exist in the registry with id '920736617090'";

const lines = stdinLines();

const { context, close } = await launch({ width: 1280, height: 720 });

const problems = [];
const watch = (page, name) => {
  page.setDefaultTimeout(15000);
  page.on('pageerror', (error) => problems.push(`${name}: script error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console error: ${message.text()}`);
  });
};
// No request may leave the server, from any page of the context.
const requests = [];
context.on('request', (request) => {
  const url = request.url();
  requests.push(url);
  if (!url.startsWith(origin) && !url.startsWith('data:')) problems.push(`outside request: ${url}`);
});

try {
  const page = context.pages()[0] ?? await context.newPage();
  watch(page, 'audience');
  const shot = async (p, name) => p.screenshot({ path: join(artifacts, `${name}.png`) });

  step('the deck opens on slide 1');
  await page.goto(`${base}/slides/`);
  const count = Number(await page.locator('body').getAttribute('data-count'));
  assert.ok(count >= 15, `a seminar's worth of slides (${count})`);
  assert.equal(await page.locator('.slide.current').count(), 1);
  assert.equal(await page.locator('.slide.current').getAttribute('data-n'), '1');
  assert.match(page.url(), /#1$/);

  const current = page.locator('.slide.current');
  const titles = [];
  step(`walk all ${count} slides with the keyboard`);
  for (let n = 1; n <= count; n += 1) {
    assert.equal(await current.getAttribute('data-n'), String(n), `slide ${n} is shown`);
    assert.equal(await page.locator('.slide:visible').count(), 1, 'one slide at a time');
    const text = (await current.locator('.slide-body').innerText()).trim();
    assert.ok(text.length > 20, `slide ${n} has content: ${JSON.stringify(text)}`);
    assert.ok(!text.includes('{{'), `slide ${n} has no unfilled placeholder`);
    const heading = current.locator('h1, h2').first();
    assert.ok(await heading.isVisible(), `slide ${n} shows its heading`);
    titles.push((await heading.innerText()).trim());
    // The slide fits its 1280x720 frame: nothing is cut off on the projector.
    const fits = await current.evaluate((slide) => {
      const frame = slide.getBoundingClientRect();
      const body = slide.querySelector('.slide-body').getBoundingClientRect();
      return { overflow: slide.scrollHeight - slide.clientHeight, bottom: body.bottom - frame.bottom, width: frame.width };
    });
    assert.ok(fits.overflow <= 0 && fits.bottom <= 0, `slide ${n} (${titles[n - 1]}) fits: ${JSON.stringify(fits)}`);
    assert.ok(fits.width > 600, `slide ${n} is scaled to the window (${fits.width} px wide)`);
    assert.match(page.url(), new RegExp(`#${n}$`), 'the address follows the slide');
    assert.equal(await page.locator('.controls .counter').innerText(), `${n} / ${count}`);
    await shot(page, `slide-${String(n).padStart(2, '0')}`);
    await page.keyboard.press(n % 2 ? 'ArrowRight' : 'Space');
  }
  assert.equal(await current.getAttribute('data-n'), String(count), 'past the last slide it stays on the last');
  assert.equal(new Set(titles).size, count, 'every slide has its own title');

  step('keys back and jumps: ArrowLeft, PageUp, Home, End, PageDown');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await current.getAttribute('data-n'), String(count - 1));
  await page.keyboard.press('PageUp');
  assert.equal(await current.getAttribute('data-n'), String(count - 2));
  await page.keyboard.press('Home');
  assert.equal(await current.getAttribute('data-n'), '1');
  await page.keyboard.press('PageUp');
  assert.equal(await current.getAttribute('data-n'), '1', 'before the first slide it stays on the first');
  await page.keyboard.press('End');
  assert.equal(await current.getAttribute('data-n'), String(count));
  await page.keyboard.press('Home');
  await page.keyboard.press('PageDown');
  assert.equal(await current.getAttribute('data-n'), '2');
  await page.locator('.controls [data-go="next"]').click();
  assert.equal(await current.getAttribute('data-n'), '3', 'the next button works too');

  step('#n deep links, including out of range and changed in place');
  // A hash-only navigation: the deck moves on its hashchange event, which can come after goto returns.
  const showing = (n) => page.waitForFunction((n) => document.querySelector('.slide.current')?.dataset.n === n, String(n));
  await page.goto(`${base}/slides/#5`);
  await showing(5);
  assert.equal(await current.getAttribute('data-n'), '5');
  assert.equal(await current.locator('.slide-body h2').innerText(), titles[4]);
  await page.goto(`${base}/slides/#999`);
  await showing(count);
  assert.equal(await current.getAttribute('data-n'), String(count), '#999 shows the last slide');
  await page.goto(`${base}/slides/#nonsense`);
  await showing(1);
  assert.equal(await current.getAttribute('data-n'), '1');
  await page.evaluate(() => { location.hash = '#4'; });
  await page.waitForFunction(() => document.querySelector('.slide.current')?.dataset.n === '4');

  step('the live panels show the mock: first its error for the missing repository');
  const repositoriesSlide = titles.findIndex((t) => t.includes('Create the repository')) + 1;
  const imagesSlide = titles.findIndex((t) => t.includes('Push')) + 1;
  assert.ok(repositoriesSlide > 0 && imagesSlide > 0, 'the demo slides are there');
  await page.goto(`${base}/slides/#${imagesSlide}`);
  const imagesPanel = current.locator('.live[data-live="images"]');
  await imagesPanel.locator('.live-error').filter({ hasText: MISSING_REPO }).waitFor();
  assert.equal(await imagesPanel.locator('.live-error').innerText(), MISSING_REPO);
  await page.goto(`${base}/slides/#${repositoriesSlide}`);
  const repositoriesPanel = current.locator('.live[data-live="repositories"]');
  await repositoriesPanel.locator('tbody tr.live-empty').waitFor();
  assert.equal(await repositoriesPanel.locator('tbody').innerText(), 'No repositories yet.');
  await shot(page, 'live-empty');

  step('a repository created through the API appears without a reload');
  await page.evaluate(() => { window.stillTheSamePage = true; });
  console.log(`CREATE ${REPOSITORY} ${TAG}`);
  const { value: answer } = await lines.next();
  assert.equal(answer, 'done', 'the test created the repository');
  const row = repositoriesPanel.locator('tbody tr', { hasText: REPOSITORY });
  await row.waitFor({ timeout: 10000 });
  // The row can appear on a poll between CreateRepository and the push; wait for the pushed image.
  await row.locator('td', { hasText: /^1$/ }).waitFor({ timeout: 10000 });
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'the page was not reloaded');
  const cells = await row.locator('td').allInnerTexts();
  assert.deepEqual(cells, [
    REPOSITORY, `920736617090.dkr.ecr.ap-south-1.amazonaws.com/${REPOSITORY}`, 'IMMUTABLE', 'Enabled', '1',
  ]);
  await shot(page, 'live-repository');
  await page.keyboard.press('Home');
  await page.goto(`${base}/slides/#${imagesSlide}`);
  const imageRow = imagesPanel.locator('tbody tr', { hasText: TAG });
  await imageRow.waitFor({ timeout: 10000 });
  assert.match(await imageRow.innerText(), /sha256:[0-9a-f]{12}…/);
  assert.equal(await imagesPanel.locator('.live-error').isHidden(), true, 'the error is gone');
  await shot(page, 'live-image');

  step('p opens the presenter view: current slide, next slide, notes, a running timer');
  await page.goto(`${base}/slides/#2`);
  await showing(2);
  const [presenter] = await Promise.all([context.waitForEvent('page'), page.keyboard.press('p')]);
  watch(presenter, 'presenter');
  await presenter.setViewportSize({ width: 1280, height: 800 });
  await presenter.waitForLoadState();
  assert.match(presenter.url(), /\/slides\/presenter#2$/);
  await presenter.locator('#current .slide').waitFor();
  assert.equal(await presenter.locator('#current .slide').getAttribute('data-n'), '2');
  assert.equal(await presenter.locator('#current .slide-body h2').innerText(), titles[1]);
  assert.equal(await presenter.locator('#next .slide').getAttribute('data-n'), '3');
  assert.equal(await presenter.locator('#next .slide-body h2').innerText(), titles[2]);
  const notes = await presenter.locator('#notes').innerText();
  assert.match(notes, /Read the five outcomes aloud/, 'the notes of slide 2');
  assert.equal(await presenter.locator('#current .notes').count(), 0, 'the slide pane shows no notes');
  assert.equal(await presenter.locator('.counter').innerText(), `2 / ${count}`);
  const first = await presenter.locator('#timer').innerText();
  assert.match(first, /^\d\d:\d\d$/);
  await presenter.waitForFunction((before) => document.getElementById('timer').textContent !== before, first, {
    timeout: 5000,
  });
  assert.match(await presenter.locator('#timer').innerText(), /^00:0[1-9]$/, 'the timer runs');
  await shot(presenter, 'presenter');
  await presenter.reload();
  await presenter.locator('#current .slide').waitFor();
  assert.notEqual(await presenter.locator('#timer').innerText(), '00:00', 'a reload keeps the timer running');

  step('the presenter and the audience windows move together');
  await presenter.keyboard.press('ArrowRight');
  assert.equal(await presenter.locator('#current .slide').getAttribute('data-n'), '3');
  await page.waitForFunction(() => document.querySelector('.slide.current')?.dataset.n === '3');
  await page.keyboard.press('End');
  await presenter.waitForFunction((n) => document.querySelector('#current .slide')?.dataset.n === n, String(count));
  assert.equal(await presenter.locator('#next').innerText(), 'End of the deck');
  assert.match(await presenter.locator('#notes').innerText(), /open the floor/);
  await presenter.locator('#timer-reset').click();
  assert.equal(await presenter.locator('#timer').innerText(), '00:00');
  await presenter.goto(`${base}/slides/presenter#${repositoriesSlide}`);
  await presenter.locator('#current .live tbody tr', { hasText: REPOSITORY }).waitFor();
  await shot(presenter, 'presenter-live');

  step("the presenter view shows the lab:notes of the lessons a slide names (Lesson: lines)");
  const verifySlide = titles.findIndex((t) => t.includes('Verify')) + 1;
  assert.ok(verifySlide > 0, 'the verify slide is there');
  await presenter.goto(`${base}/slides/presenter#${verifySlide}`);
  await presenter.waitForFunction((n) => document.querySelector('#current .slide')?.dataset.n === n, String(verifySlide));
  const lessonNotes = presenter.locator('#notes .lesson-notes');
  assert.equal(await lessonNotes.count(), 1, 'one lesson stage named on the verify slide');
  assert.equal(await lessonNotes.locator('h3').innerText(), 'From the lesson: Verify the push · In the console');
  assert.match(await lessonNotes.innerText(), /taken on trust/);
  assert.match(await presenter.locator('#notes').innerText(), /Compare the digest/, "the slide's own notes stay first");
  assert.ok(await lessonNotes.isVisible(), 'the lesson notes are on screen');
  await shot(presenter, 'presenter-lesson-notes');
  await presenter.close();
  assert.equal(await page.locator('.lesson-notes').first().isVisible(), false, 'the audience never sees them');

  step('print: one slide per page');
  await page.emulateMedia({ media: 'print' });
  const printed = await page.evaluate(() => [...document.querySelectorAll('.slide')].filter(
    (s) => getComputedStyle(s).display !== 'none' && getComputedStyle(s).breakAfter === 'page').length);
  assert.equal(printed, count, 'every slide is printed, each on its own page');
  assert.equal(await page.locator('.controls').isVisible(), false, 'the controls are not printed');
  await page.emulateMedia({ media: null });
  const deckPdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  writeFileSync(join(artifacts, 'slides.pdf'), deckPdf);
  // The page tree's root holds the total: the largest /Count in the file.
  const pages = (pdf) => Math.max(0, ...(pdf.toString('latin1').match(/\/Count \d+/g) || []).map((c) => Number(c.slice(7))));
  assert.equal(pages(deckPdf), count, `the PDF has one page per slide`);

  step('the handout (?print-notes) shows every slide with its notes, and prints them');
  await page.goto(`${base}/slides/?print-notes`);
  assert.equal(await page.locator('.sheet').count(), count);
  assert.equal(await page.locator('.sheet > .notes:visible').count(), count, 'notes are shown under each slide');
  assert.match(await page.locator('.sheet').nth(1).locator('.notes').innerText(), /Read the five outcomes aloud/);
  await page.locator('.live tbody tr', { hasText: REPOSITORY }).first().waitFor();
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.sheet > .notes:visible').count(), count, 'notes are printed in the handout');
  await page.emulateMedia({ media: null });
  const handoutPdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  writeFileSync(join(artifacts, 'handout.pdf'), handoutPdf);
  assert.equal(pages(handoutPdf), count, 'the handout has one page per slide');
  await page.screenshot({ path: join(artifacts, 'handout.png') });

  assert.ok(requests.some((url) => url.includes('/slides/api/')), 'the live panels asked the server');
  assert.deepEqual(problems, [], 'no script errors and no outside requests');
  step('passed');
} finally {
  await close();
}
process.exit(0);
