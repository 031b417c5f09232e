// A supervisor steps in, in Debian's Chromium against the real server
// (simulator gateway): Lena whispers to Anna from the supervisor page (the
// note shows on Anna's desktop, striped, never in the simulator's inbox),
// joins the conversation, Anna answers with a note of her own, Lena texts
// the customer, takes the conversation over (Anna is told and released)
// and ends it. The customer's earlier score (5, CSAT) shows in the
// desktop's interaction history. Screenshots: test-output/screens/supervise-*.png.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, webDir } from './lib/server.mjs';
import { Desk, simSend, simInbox } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { configFile, waitText, login, strings, problems } from './lib/desk.mjs';

const EP = '+46700000001';
const CUST = '+46701112233';
const V = JSON.parse(readFileSync(path.join(webDir, 'supervisor', 'i18n', 'sv.json'), 'utf8'));
const L = strings('sv');
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

test('whisper, barge and take-over on the supervisor page and the desktop', async () => {
  const s = new Server({ args: ['--config', configFile({
    supervisors: [{ username: 'lena', password: 'demo-lena' }],
    entry_points: [{ id: 1, number: EP, queue: 1, survey: { language: 'sv', window_s: 600 } }, { id: 2, number: '71000', queue: 2 }],
  })] });
  await s.start();
  const browser = await launch();
  cleanup.push(async () => { await browser.close(); s.cleanup(); });

  // an earlier conversation, handled by Erik and scored 5 by the customer:
  // the desktop's interaction history shows the score
  const erik = await Desk.open(s.url, 'erik', 'demo-erik');
  await erik.cmd('set_state', { state: 'available' });
  await simSend(s.url, CUST, EP, 'Hej, en tidigare fråga');
  const first = await erik.offer();
  await erik.cmd('accept', { conv: first.id });
  await erik.cmd('end', { conv: first.id });
  await erik.cmd('wrapup', { conv: first.id, reason: 1 });
  await erik.cmd('set_state', { state: 'idle' });
  await erik.close();
  assert.equal((await simSend(s.url, CUST, EP, '5 Toppen')).status, 200);

  const anna = await agentPage(browser, s.url);
  await login(anna, 'anna', 'demo-anna');
  await anna.selectOption('#state-select', 'available');
  await simSend(s.url, CUST, EP, 'Hej, jag vill säga upp mitt abonnemang');
  await anna.click('.offer .accept');
  await anna.locator('#composer-text').waitFor({ state: 'visible' });
  assert.equal(await anna.locator('#composer-note-row').isHidden(), true); // alone: no notes

  const sup = await agentPage(browser, `${s.url}/supervisor`);
  await sup.fill('#login-user', 'lena');
  await sup.fill('#login-pass', 'demo-lena');
  await sup.click('#login-submit');
  await sup.locator('#conv-body tr .linkish').first().click();
  await sup.locator('#sup-actions').waitFor({ state: 'visible' });
  assert.equal(await sup.locator('#sup-mode-sms').isHidden(), true); // not in it yet: notes only

  // a whisper: striped on Anna's desk, with who wrote it
  await sup.fill('#sup-text', 'Erbjud tre månader till halva priset');
  await sup.click('#sup-submit');
  await anna.locator('#transcript .whisper').waitFor();
  await waitText(anna, '#transcript .whisper .text', 'Erbjud tre månader till halva priset');
  assert.match(await anna.locator('#transcript .whisper .note-head').textContent(), /lena \(arbetsledare\)/);
  await waitText(anna, '#hist .hist-csat', 'Kundens betyg: 5 av 5 – ”Toppen”');
  await shot(anna, 'supervise-whisper-desktop');

  // barge: Anna may now answer with a note of her own
  await sup.click('#sup-barge');
  await waitText(sup, '#reader-tag', V.tag_joined);
  await anna.locator('#composer-note-row').waitFor({ state: 'visible' });
  await anna.check('#composer-note');
  await waitText(anna, '#composer-send', L('note_send'));
  await anna.fill('#composer-text', 'Kunden har redan fått ett erbjudande');
  await anna.keyboard.press('Enter');
  await sup.locator('#reader-transcript .whisper', { hasText: 'Kunden har redan fått ett erbjudande' }).waitFor();
  await anna.locator('#transcript .whisper', { hasText: 'Kunden har redan fått ett erbjudande' }).waitFor();
  // Lena texts the customer
  await sup.check('input[name="sup-mode"][value="send"]');
  await sup.fill('#sup-text', 'Hej! Jag är Lena, chef på kundtjänst.');
  await sup.click('#sup-submit');
  await anna.locator('#transcript .msg-out', { hasText: 'Jag är Lena' }).locator('.who', { hasText: 'lena (arbetsledare)' }).waitFor();
  await shot(sup, 'supervise-joined-supervisor');

  // the simulator's handset got the survey and Lena's SMS, never a note
  const inbox = (await simInbox(s.url, CUST)).map((m) => m.text);
  assert.deepEqual(inbox.slice(1), ['Hej! Jag är Lena, chef på kundtjänst.']); // after the survey
  assert.match(inbox[0], /^Hur nöjd är du/);

  // take over: Anna is told and the conversation leaves her desk
  await sup.click('#sup-take');
  await waitText(sup, '#reader-tag', V.tag_taken);
  await anna.locator('#tasks-empty').waitFor({ state: 'visible' });
  const banner = await anna.locator('body').innerText();
  assert.match(banner, /Arbetsledaren lena tog över konversationen med/);
  await shot(anna, 'supervise-taken-desktop');
  await sup.click('#sup-end');
  await sup.locator('#convs-empty').waitFor({ state: 'visible' });
  assert.deepEqual(problems(anna), []);
  assert.deepEqual(sup.problems.filter((p) => !/status of 4\d\d/.test(p)), []);
  assert.equal((await s.stop()).code, 0, s.output);
});
