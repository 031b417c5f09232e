// The admin page's API token and audit trail tabs in Debian's Chromium
// against the real server: create an agent token (its secret shown once,
// and it works), revoke it with the keyboard, read the audit trail and
// filter it, in Swedish and English and at phone width. Screenshots go to
// test-output/screens/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, webDir } from './lib/server.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { checkScreen } from './lib/a11y.mjs';
import { waitText } from './lib/desk.mjs';

const A = JSON.parse(readFileSync(path.join(webDir, 'admin', 'i18n', 'sv.json'), 'utf8'));
const E = JSON.parse(readFileSync(path.join(webDir, 'admin', 'i18n', 'en.json'), 'utf8'));
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function adminLogin(page, user, pass) {
  await page.locator('#login-form').waitFor();
  await page.fill('#login-user', user);
  await page.fill('#login-pass', pass);
  await page.click('#login-submit');
}

test('admin page: API tokens shown once and revoked; the audit trail with filters', async () => {
  const s = new Server();
  await s.start();
  const browser = await launch();
  cleanup.push(async () => { await browser.close(); s.cleanup(); });
  const page = await agentPage(browser, `${s.url}/admin/`);
  await adminLogin(page, 'admin', 'demo-admin');
  await page.locator('#app').waitFor({ state: 'visible' });

  await page.click('.tab[data-kind="tokens"]');
  await page.locator('#tokens').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#resource').isHidden(), true);
  await waitText(page, '#tok-empty', A.empty_list);
  // a refused token: the API's code in the page's words, nothing made
  await page.click('#tok-create');
  await waitText(page, '#tok-error', A.err_bad_name);
  // an agent token acting as Anna, valid 30 days
  await page.fill('#tok-name', 'Robot');
  await page.selectOption('#tok-role', 'agent');
  await page.locator('#tok-agent-field').waitFor({ state: 'visible' });
  await page.selectOption('#tok-agent', { label: 'Anna Berg' });
  await page.fill('#tok-days', '30');
  await page.click('#tok-create');
  await page.locator('#tok-secret-box').waitFor({ state: 'visible' });
  const secret = await page.inputValue('#tok-secret');
  assert.match(secret, /^tdt_/);
  await waitText(page, '#tok-body tr td:nth-child(4)', A.tok_state_active);
  assert.equal(await page.textContent('#tok-body tr td:nth-child(2)'), `${A.role_agent}: Anna Berg`);
  await checkScreen(page, 'admin tokens (sv)');
  await shot(page, 'admin-tokens-sv');
  let r = await fetch(`${s.url}/api/lists`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(r.status, 200);
  // the list never shows it again
  await page.reload();
  await page.locator('#tokens').waitFor({ state: 'visible' });
  await waitText(page, '#tok-body tr td:nth-child(1)', 'Robot');
  assert.equal(await page.locator('#tok-secret-box').isHidden(), true);
  assert.ok(!(await page.content()).includes(secret));
  // revoke with the keyboard
  await page.focus('#tok-body button.danger');
  await page.keyboard.press('Enter');
  await waitText(page, '#tok-body tr td:nth-child(4)', A.tok_state_revoked);
  assert.equal(await page.locator('#tok-body button').count(), 0);
  r = await fetch(`${s.url}/api/lists`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(r.status, 401);

  // the audit trail
  await page.click('.tab[data-kind="audit"]');
  await page.locator('#audit').waitFor({ state: 'visible' });
  await page.locator('#audit-body tr').first().waitFor();
  const rows = await page.locator('#audit-body tr td:nth-child(5)').allTextContents();
  assert.deepEqual(rows, [`DELETE /api/admin/tokens/1`, 'POST /api/admin/tokens', 'POST /api/admin/tokens', A.audit_login_ok]);
  assert.equal(await page.textContent('#audit-body tr:first-child td:nth-child(6)'), '200');
  await checkScreen(page, 'admin audit (sv)');
  await shot(page, 'admin-audit-sv');
  await page.fill('#audit-action', 'DELETE');
  await page.press('#audit-action', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#audit-body tr').length === 1);
  assert.match(await page.getAttribute('#audit-csv', 'href'), /audit\.csv\?action=DELETE/);
  await page.fill('#audit-action', 'nothing-like-this');
  await page.click('#audit-search');
  await page.locator('#audit-empty').waitFor({ state: 'visible' });
  await page.fill('#audit-action', '');
  await page.click('#audit-search');
  await page.locator('#audit-body tr').nth(3).waitFor();

  // English, and a phone
  await page.click('#app .lang-btn[data-lang="en"]');
  await waitText(page, '#audit-title', E.audit_title);
  await page.locator('#audit-body tr').nth(3).waitFor();
  assert.equal(await page.textContent('#audit-body tr:last-child td:nth-child(5)'), E.audit_login_ok);
  await checkScreen(page, 'admin audit (en)');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'admin-audit-en-phone');
  await page.click('.tab[data-kind="tokens"]');
  await waitText(page, '#tok-body tr td:nth-child(4)', E.tok_state_revoked);
  await checkScreen(page, 'admin tokens (en, phone)');
  await shot(page, 'admin-tokens-en-phone');
  assert.deepEqual(page.problems.filter((p) => !/status of 4\d\d/.test(p)), []);
  assert.equal((await s.stop()).code, 0, s.output);
});
