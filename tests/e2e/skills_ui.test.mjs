// Skills on the administrator's page and the supervisor's page, in Debian's
// Chromium against the real server (demo configuration): the Skills tab, an
// agent's proficiencies and a queue's minimums set with the forms (the
// API's field error shown next to the field), the in_use refusal when a
// skill still has users, and the supervisor's agent table listing skills.
// The entry point's skill words and satisfaction survey edited on the admin
// page; the desktop's transfer dialog adding a required skill, which routes
// the conversation to the agent who has it.
// Screenshots go to test-output/screens/skills-*.png.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, webDir } from './lib/server.mjs';
import { login as apiLogin } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { waitText, login as deskLogin } from './lib/desk.mjs';
import { Desk, simSend } from './lib/client.mjs';

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
  await waitText(admin, '#err-widen_step_s', A.e_range.replace('{min}', '0').replace('{max}', '86400'));
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

test('entry point skill words and survey on the admin page; a transfer that requires a skill', async () => {
  const s = new Server();
  await s.start();
  const browser = await launch();
  cleanup.push(async () => { await browser.close(); s.cleanup(); });
  const cookie = (await apiLogin(s.url, 'admin', 'demo-admin')).cookie;
  const getEp = () => fetch(`${s.url}/api/admin/entry_points/1`, { headers: { cookie } }).then((r) => r.json());

  const admin = await agentPage(browser, `${s.url}/admin`);
  await adminLogin(admin, 'admin', 'demo-admin');
  await admin.locator('#app').waitFor({ state: 'visible' });
  await tab(admin, 'entry_points');
  await admin.click('#list-body tr[data-id="1"] .edit');
  // the demo's word is in the form; a second one is added
  assert.equal(await admin.locator('#f-skill_words .word-row input[name="word"]').first().inputValue(), 'english');
  await admin.click('#word-add');
  const row = admin.locator('#f-skill_words .word-row').nth(1);
  await row.locator('input[name="word"]').fill('faktura');
  await row.locator('select[name="word_skill"]').selectOption('1');
  await row.locator('select[name="word_level"]').selectOption('4');
  // the survey: the English template, a bad window first
  await admin.check('#f-survey-on');
  await admin.locator('#f-survey-language').selectOption('en');
  await waitText(admin, '#f-survey-template', /How did we do\?/);
  await admin.fill('#f-survey-window_s', 'en timme');
  await admin.click('#form-save');
  await waitText(admin, '#err-survey', `${A.survey_window_s}: ${A.e_range.replace('{min}', '1').replace('{max}', '604800')}`);
  assert.equal((await getEp()).survey, undefined); // nothing saved
  await admin.fill('#f-survey-window_s', '600');
  await admin.locator('#f-survey').scrollIntoViewIfNeeded();
  await shot(admin, 'skills-ep-survey-form');
  await noRawText(admin);
  await admin.click('#form-save');
  await waitText(admin, '#list-ok', /\+46700000001/);
  let ep = await getEp();
  assert.deepEqual(ep.skill_words, [{ word: 'english', skill: 2, level: 1 }, { word: 'faktura', skill: 1, level: 4 }]);
  assert.equal(ep.survey.window_s, 600);
  assert.equal(ep.survey.language, 'en');
  assert.match(ep.survey.text, /^How did we do\?/);
  await waitText(admin, '#list-body tr[data-id="1"] .c-survey', /600 s/);
  // an own question; removing the first word
  await admin.click('#list-body tr[data-id="1"] .edit');
  await admin.locator('#f-survey-language').selectOption('own');
  await admin.fill('#f-survey-text', 'Betyg 1-5 på hjälpen?');
  await admin.locator('#f-skill_words .word-remove').first().click();
  await admin.click('#form-save');
  await waitText(admin, '#list-ok', /\+46700000001/);
  ep = await getEp();
  assert.deepEqual(ep.skill_words, [{ word: 'faktura', skill: 1, level: 4 }]);
  assert.deepEqual(ep.survey, { text: 'Betyg 1-5 på hjälpen?', window_s: 600 });
  // and off again: saving without the survey removes it
  await admin.click('#list-body tr[data-id="1"] .edit');
  assert.equal(await admin.locator('#f-survey-text').inputValue(), 'Betyg 1-5 på hjälpen?');
  await admin.uncheck('#f-survey-on');
  await admin.click('#form-save');
  await waitText(admin, '#list-ok', /\+46700000001/);
  assert.equal((await getEp()).survey, undefined);
  assert.deepEqual(problems(admin), []);

  // the desktop: Anna transfers to Kundtjänst requiring English 4; Erik,
  // Available longer but without English, is passed over for Maja
  const anna = await agentPage(browser, s.url);
  await deskLogin(anna, 'anna', 'demo-anna');
  await anna.selectOption('#state-select', 'available');
  await simSend(s.url, '+46701230009', '+46700000001', 'Hej, en fråga');
  await anna.click('.offer .accept');
  await anna.locator('#btn-transfer').waitFor({ state: 'visible' });
  const erik = await Desk.open(s.url, 'erik', 'demo-erik');
  const maja = await Desk.open(s.url, 'maja', 'demo-maja');
  await erik.cmd('set_state', { state: 'available' });
  await new Promise((res) => setTimeout(res, 50));
  await maja.cmd('set_state', { state: 'available' });
  await anna.click('#btn-transfer');
  await anna.locator('#transfer-skills').waitFor({ state: 'visible' });
  await anna.locator('#transfer-list label', { hasText: 'Kundtjänst' }).click();
  await anna.locator('#transfer-skill-list select[data-skill="2"]').selectOption('4');
  await shot(anna, 'skills-transfer-dialog');
  await anna.click('#transfer-ok');
  const offer = await maja.offer();
  assert.equal(offer.number !== undefined, true);
  assert.equal(erik.events.some((e) => e.type === 'conversation' && e.conversation.role === 'offered'), false);
  assert.deepEqual(problems(anna), []);
  await erik.close();
  await maja.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
