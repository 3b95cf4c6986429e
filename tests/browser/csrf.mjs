// Cross-site request forgery in a real browser: a page on another site auto-submits a form to the
// console's delete-repository URL. The console must refuse it and the repository must stay.
//
//   node tests/browser/csrf.mjs URL ARTIFACT_DIR
//
// Run by tests/it/lan.rs, which serves the mock at URL (on 127.0.0.1) with a repository `test`.
// This script serves the hostile page itself on http://localhost:PORT (another site), opens the
// console first (so the browser holds a console session), then the hostile page. Screenshots go to
// ARTIFACT_DIR. Exit 0 means passed; the Rust side then checks the repository is still there.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { launch, step } from './launch.mjs';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node csrf.mjs URL ARTIFACT_DIR');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const target = `${base}/console/repositories/test/_/delete`;
const hostile = `<!doctype html><html><head><title>Free stickers</title></head><body>
<form id="f" method="post" action="${target}"><input name="confirm" value="delete"></form>
<script>document.getElementById('f').submit();</script></body></html>`;
const evil = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'text/html' });
  response.end(hostile);
});
await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
const evilUrl = `http://localhost:${evil.address().port}/`;

const { context, close } = await launch({ width: 1280, height: 800 });
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15000);
  step('the learner has the console open (a session cookie)');
  await page.goto(`${base}/console/repositories/test`);
  await page.getByRole('heading', { name: 'test' }).first().waitFor();

  step(`a page on another site (${evilUrl}) auto-submits a delete form to the console`);
  const answered = page.waitForResponse((r) => r.url().startsWith(target) && r.request().method() === 'POST');
  await page.goto(evilUrl);
  const response = await answered;
  await page.waitForURL((url) => url.href.startsWith(target));
  await page.getByRole('heading', { name: 'Refused' }).waitFor();
  await page.screenshot({ path: join(artifacts, 'csrf-refused.png'), fullPage: true });
  assert.equal(response.status(), 403);
  const text = await page.locator('body').innerText();
  assert.match(text, /sent from another site/);
  assert.match(text, /Nothing was changed/);

  step('the repository is still there');
  await page.goto(`${base}/console/repositories/test`);
  await page.getByRole('heading', { name: 'test' }).first().waitFor();
  await page.screenshot({ path: join(artifacts, 'csrf-repository-still-there.png'), fullPage: true });
  step('passed');
} finally {
  await close();
  evil.close();
}
