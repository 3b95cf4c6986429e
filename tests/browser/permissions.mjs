// The repository's Permissions tab in a real browser: a malformed policy is refused with AWS's text
// (and the typed text stays in the form), a good one is saved and shown indented, then deleted.
//
//   node tests/browser/permissions.mjs URL ARTIFACT_DIR
//
// Run by tests/it/console.rs, which serves the mock at URL with a repository `test` and checks
// afterwards that no policy is left. Screenshots go to ARTIFACT_DIR. Exit 0 means passed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { launch, step } from './launch.mjs';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node permissions.mjs URL ARTIFACT_DIR');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const policy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{
    Sid: 'AllowPullFromProd', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' },
    Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
  }],
});

const { context, close } = await launch({ width: 1280, height: 900 });
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15000);
  step('the repository page links to its Permissions tab');
  await page.goto(`${base}/console/repositories/test`);
  await page.getByRole('link', { name: 'Permissions' }).click();
  await page.getByRole('heading', { name: 'Repository policy' }).waitFor();
  assert.match(await page.locator('#no-policy').innerText(), /No repository policy/);

  step('a malformed policy is refused with AWS\'s text and the typed text stays');
  await page.getByLabel('Policy JSON').fill('{"Version": "2012-10-17"}');
  await page.getByRole('button', { name: 'Save' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /InvalidParameterException/);
  assert.match(await alert.innerText(), /Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'/);
  assert.equal(await page.getByLabel('Policy JSON').inputValue(), '{"Version": "2012-10-17"}');
  await page.screenshot({ path: join(artifacts, 'permissions-malformed-1280.png'), fullPage: true });

  step('a good policy is saved and shown indented');
  await page.getByLabel('Policy JSON').fill(policy);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved the policy of test.').waitFor();
  const shown = await page.locator('#policy').innerText();
  assert.match(shown, /"Sid": "AllowPullFromProd"/);
  assert.match(shown, /\n {4}\{/, 'indented');
  await page.screenshot({ path: join(artifacts, 'permissions-saved-1280.png'), fullPage: true });

  step('Delete policy removes it');
  await page.getByRole('button', { name: 'Delete policy' }).click();
  await page.getByText('Deleted the policy of test.').waitFor();
  await page.locator('#no-policy').waitFor();
  await page.screenshot({ path: join(artifacts, 'permissions-deleted-1280.png'), fullPage: true });
  step('passed');
} finally {
  await close();
}
