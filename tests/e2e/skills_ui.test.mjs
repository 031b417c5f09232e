// Skills on the administrator's page and the supervisor's page, in Debian's
// Chromium against the real server (demo configuration): the Skills tab, an
// agent's proficiencies and a queue's minimums set with the forms (the
// API's field error shown next to the field), the in_use refusal when a
// skill still has users, and the supervisor's agent table listing skills.
// Screenshots go to test-output/screens/skills-*.png.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, webDir } from './lib/server.mjs';
import { login as apiLogin } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { waitText } from './lib/desk.mjs';

const A = JSON.parse(readFileSync(path.join(webDir, 'admin', 'i18n', 'sv.json'), 'utf8'));
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });
const problems = (page) => page.problems.filter((p) => !/status of 4\d\d/.test(p));

async function adminLogin(page, user, pass) {
  await page.locator('#login-form').waitFor();
  await page.fill('#login-user', user);
  await page.fill('#login-pass', pass);
  await page.click('#login-submit');
}

async function tab(page, kind) {
  await page.click(`.tab[data-kind="${kind}"]`);
  await page.locator(`.tab[data-kind="${kind}"][aria-selected="true"]`).waitFor();
}

// Nothing on screen may read null, undefined or a translation key.
async function noRawText(page) {
  const body = await page.locator('body').innerText();
  assert.doesNotMatch(body, /\bundefined\b|\bnull\b|\b(?:f|h|tab|new_title|what|level|no|confirm)_[a-z_]+\b/);
}

test('skills on the admin page and the supervisor page', async () => {
  const s = new Server();
  await s.start();
  const browser = await launch();
  cleanup.push(async () => { await browser.close(); s.cleanup(); });

  const admin = await agentPage(browser, `${s.url}/admin`);
  await adminLogin(admin, 'admin', 'demo-admin');
  await admin.locator('#app').waitFor({ state: 'visible' });

  // the Skills tab lists the demo's skills; a new one is added
  await tab(admin, 'skills');
  await waitText(admin, '#list-title', A.tab_skills);
  assert.deepEqual(await admin.locator('#list-body .c-name').allTextContents(), ['Svenska', 'English']);
  await admin.fill('#f-name', 'Fakturor');
  await admin.click('#form-save');
  await waitText(admin, '#list-ok', /Fakturor/);
  assert.deepEqual(await admin.locator('#list-body .c-name').allTextContents(), ['Svenska', 'English', 'Fakturor']);
  await shot(admin, 'skills-admin-tab');
  await noRawText(admin);

  // Erik gets Fakturor 4: one select per skill, keyboard reachable
  await tab(admin, 'agents');
  await admin.click('#list-body tr[data-id="2"] .edit');
  const sel = admin.locator('#f-skills select[data-skill="3"]');
  await sel.focus();
  await sel.selectOption('4');
  assert.equal(await admin.locator('#f-skills select[data-skill="1"]').inputValue(), '4'); // Svenska kept
  await shot(admin, 'skills-agent-form');
  await noRawText(admin);
  await admin.click('#form-save');
  await waitText(admin, '#list-ok', /Erik Lund/);
  assert.equal(await admin.locator('#list-body tr[data-id="2"] .c-skills').textContent(), 'Svenska 4, Fakturor 4');

  // the queue asks Fakturor 2, widening every 30 s; a bad step is refused
  // next to its field
  await tab(admin, 'queues');
  await admin.click('#list-body tr[data-id="1"] .edit');
  await admin.locator('#f-skills select[data-skill="3"]').selectOption('2');
  await admin.fill('#f-widen_step_s', 'snart');
  await admin.click('#form-save');
  await waitText(admin, '#err-widen_step_s', /must be a whole number/);
  await admin.fill('#f-widen_step_s', '30');
  await admin.click('#form-save');
  await waitText(admin, '#list-ok', /Kundtjänst/);
  assert.equal(await admin.locator('#list-body tr[data-id="1"] .c-skills').textContent(), 'Fakturor 2');
  const q = await fetch(`${s.url}/api/admin/queues/1`, { headers: { cookie: (await apiLogin(s.url, 'admin', 'demo-admin')).cookie } }).then((r) => r.json());
  assert.deepEqual(q.skills, [{ skill: 3, level: 2 }]);
  assert.equal(q.widen_step_s, 30);

  // deleting a skill still in use is refused with the page's explanation
  await tab(admin, 'skills');
  await admin.click('#list-body tr[data-id="3"] .delete');
  await admin.locator('#dlg-confirm[open]').waitFor();
  await waitText(admin, '#confirm-note', A.confirm_skill);
  await admin.click('#confirm-ok');
  await admin.locator('#list-error').waitFor({ state: 'visible' });
  assert.match(await admin.locator('#list-error').textContent(), /Fakturor/);
  await shot(admin, 'skills-in-use');
  assert.deepEqual(problems(admin), []);

  // phone width: the skills group still fits
  const phone = await agentPage(browser, `${s.url}/admin`, { viewport: { width: 390, height: 844 } });
  await adminLogin(phone, 'admin', 'demo-admin');
  await phone.locator('#app').waitFor({ state: 'visible' });
  await phone.click('#list-body tr[data-id="1"] .edit');
  await phone.locator('#f-skills').scrollIntoViewIfNeeded();
  await shot(phone, 'skills-agent-form-phone');
  // (the resource tables themselves are wider than a phone: the page's
  // layout, not the skills, which must fit)
  const right = await phone.evaluate(() => document.getElementById('f-skills').getBoundingClientRect().right);
  assert.ok(right <= 390, `the skills group ends at ${right} px on a 390 px screen`);

  // the supervisor sees each agent's skills
  const sup = await agentPage(browser, `${s.url}/supervisor`);
  await adminLogin(sup, 'lena', 'demo-lena');
  await sup.locator('#agent-body tr[data-id="2"] .a-skills').waitFor();
  await waitText(sup, '#agent-body tr[data-id="2"] .a-skills', 'Svenska 4, Fakturor 4');
  await shot(sup, 'skills-supervisor');
  await noRawText(sup);
  assert.deepEqual(problems(sup), []);
  assert.equal((await s.stop()).code, 0, s.output);
});
