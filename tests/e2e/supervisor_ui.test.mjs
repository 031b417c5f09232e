// The supervisor's web page (/supervisor/) in Debian's Chromium against the
// real server: Lena watches the Kundtjänst queue fill (customers text the
// simulator) and drain (Anna accepts on her desktop, Erik over the
// WebSocket), reads a conversation read-only, and sees masked numbers and
// texts once the administrator turns masking on. Asserts what is on screen.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, webDir } from './lib/server.mjs';
import { Desk, login as apiLogin, simSend } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { configFile, text, waitText, login, bg } from './lib/desk.mjs';

const EP = '+46700000001';
const CARD = '4111 1111 1111 1111';
const GREEN = 'rgb(26, 127, 55)';
const V = JSON.parse(readFileSync(path.join(webDir, 'supervisor', 'i18n', 'sv.json'), 'utf8'));
const VE = JSON.parse(readFileSync(path.join(webDir, 'supervisor', 'i18n', 'en.json'), 'utf8'));
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const problems = (page) => page.problems.filter((p) => !/status of 4\d\d/.test(p));
const Q = (col) => `#queue-body tr[data-id="1"] .q-${col}`;
const AG = (id, col) => `#agent-body tr[data-id="${id}"] .a-${col}`;

test('supervisor page: a queue fills and drains, a conversation is read, masking applies', async () => {
  const s = new Server({ args: ['--config', configFile({
    admins: [{ username: 'admin', password: 'demo-admin' }],
    supervisors: [{ username: 'lena', password: 'demo-lena' }],
  })] });
  await s.start();
  const browser = await launch();
  cleanup.push(async () => { await browser.close(); s.cleanup(); });

  // an agent is refused; Lena gets in
  const sup = await agentPage(browser, `${s.url}/supervisor`);
  await sup.locator('#login-form').waitFor();
  for (const [u, p] of [['anna', 'demo-anna'], ['lena', 'demo-lena']]) {
    await sup.fill('#login-user', u);
    await sup.fill('#login-pass', p);
    await sup.click('#login-submit');
    if (u === 'anna') await waitText(sup, '#login-error', V.not_supervisor);
  }
  await sup.locator('#app').waitFor({ state: 'visible' });
  assert.deepEqual(await sup.locator('#queue-body .q-name').allTextContents(), ['Kundtjänst', 'Sälj']);
  assert.equal(await text(sup, Q('waiting')), '0');
  assert.equal(await text(sup, AG(1, 'state-text')), V.state_logged_out);
  await sup.locator('#convs-empty').waitFor({ state: 'visible' });

  // the queue fills
  const CUST = ['+46705550000', '+46705550001', '+46705550002', '+46705550003'];
  for (const [i, c] of CUST.entries()) assert.equal((await simSend(s.url, c, EP, `Kund ${i}`)).status, 200);
  await waitText(sup, Q('waiting'), '4');
  await waitText(sup, Q('longest'), /^00:0[1-9]$/, 4000); // ticks with the 1 s poll
  assert.equal(await sup.locator('#conv-body tr').count(), 4);
  assert.deepEqual(await sup.locator('#conv-body .c-number button').allTextContents(), CUST);
  assert.deepEqual([...new Set(await sup.locator('#conv-body .c-state').allTextContents())], [V.cstate_queued]);
  assert.equal(await text(sup, Q('offered')), '0');
  await shot(sup, 'supervisor-01-queue-filled');

  // Anna (capacity 3) on her desktop: three offers, one still waits
  const anna = await agentPage(browser, s.url);
  await login(anna, 'anna', 'demo-anna');
  await waitText(sup, AG(1, 'state-text'), V.state_idle);
  await anna.selectOption('#state-select', 'available');
  await waitText(sup, Q('waiting'), '1');
  await waitText(sup, Q('offered'), '3');
  await waitText(sup, AG(1, 'state-text'), V.state_available);
  assert.equal(await sup.locator(`#agent-body tr[data-id="1"] .state-cell`).evaluate((e) => getComputedStyle(e).color), GREEN);
  assert.equal(await bg(sup, '#agent-body tr[data-id="1"] .dot'), GREEN);
  await waitText(sup, AG(1, 'reserved'), V.a_reserved.replace('{n}', '3').trim());
  await anna.locator('#offers-accept-all').click();
  await waitText(sup, Q('answered'), '3');
  await waitText(sup, AG(1, 'load-value'), '3/3');
  assert.equal(await sup.locator(AG(1, 'reserved')).count(), 0);
  await waitText(sup, AG(1, 'time'), /^00:0\d$/);

  // Erik over the WebSocket takes the last one: the queue is empty
  const erik = await Desk.open(s.url, 'erik', 'demo-erik');
  await erik.cmd('set_state', { state: 'available' });
  const last = await erik.offer();
  assert.equal(last.number, CUST[3]);
  assert.equal((await erik.cmd('accept', { conv: last.id })).ok, true);
  await waitText(sup, Q('waiting'), '0');
  await waitText(sup, Q('answered'), '4');
  assert.equal(await text(sup, Q('offered')), '4');
  assert.equal(await text(sup, Q('longest')), '00:00');
  await waitText(sup, AG(2, 'load-value'), '1/3');
  assert.deepEqual([...new Set(await sup.locator('#conv-body .c-state').allTextContents())], [V.cstate_assigned]);
  const agentOf = async (num) => text(sup, `#conv-body tr:has(button:text-is("${num}")) .c-agent`);
  assert.equal(await agentOf(CUST[3]), 'Erik Lund');
  assert.equal(await agentOf(CUST[0]), 'Anna Berg');
  await shot(sup, 'supervisor-02-queue-drained');

  // Anna answers in the conversation on her screen; Lena reads it
  await anna.locator('.task').first().click();
  const num = (await text(anna, '#pane-title')).trim();
  const n = CUST.indexOf(num);
  assert.ok(n >= 0, num);
  await anna.fill('#composer-text', `Hej! Kortet ${CARD} är spärrat.`);
  await anna.keyboard.press('Enter');
  await anna.locator('.msg-out').waitFor();
  await sup.click(`#conv-body button:text-is("${num}")`);
  await waitText(sup, '#reader-title', num);
  await waitText(sup, '#reader-transcript .msg-out .text', `Hej! Kortet ${CARD} är spärrat.`);
  assert.equal(await text(sup, '#reader-transcript .msg-in .text'), `Kund ${n}`);
  assert.equal(await text(sup, '#reader-transcript .msg-out .who'), 'Anna Berg: ');
  assert.equal(await text(sup, '#reader-number'), V.reader_sub.replace('{ep}', EP).replace('{n}', '2'));
  assert.ok(await sup.locator(`#conv-body tr.selected button:text-is("${num}")`).count());
  // not in the conversation: reading, and notes only (no SMS to the
  // customer before joining: docs/supervision.md, supervise_ui.test.mjs)
  await waitText(sup, '#reader-tag', V.read_only);
  assert.equal(await sup.locator('#sup-mode-sms').isHidden(), true);
  assert.equal(await sup.locator('input[name="sup-mode"][value="note"]').isChecked(), true);
  // a new customer message reaches the open reader with the next poll
  await simSend(s.url, num, EP, 'Tack, jag väntar');
  await waitText(sup, '#reader-transcript .msg-in >> nth=-1 >> .text', 'Tack, jag väntar', 4000);
  await shot(sup, 'supervisor-03-reading');

  // the administrator turns masking on: numbers and texts masked at once
  const admin = await apiLogin(s.url, 'admin', 'demo-admin');
  const r = await fetch(`${s.url}/api/admin/settings`, {
    method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ mask_sensitive_data: true }),
  });
  assert.equal(r.status, 200);
  await waitText(sup, '#conv-body tr:first-child .c-number button', /\*/, 4000);
  const shown = await sup.locator('#conv-body .c-number button').allTextContents();
  assert.equal(shown.length, 4);
  for (const x of shown) { assert.ok(!CUST.includes(x), x); assert.match(x, /\*/); }
  await waitText(sup, '#reader-transcript .msg-out .text', /\*/, 4000);
  const body = await sup.locator('#reader').textContent();
  assert.ok(!body.includes(CARD) && !body.includes(num), body);
  await shot(sup, 'supervisor-04-masked');

  // English, remembered
  await sup.click('.top .lang-btn[data-lang="en"]');
  await waitText(sup, '#queues thead th:nth-child(2)', VE.q_waiting);
  await waitText(sup, AG(1, 'state-text'), VE.state_available);
  await sup.reload();
  await waitText(sup, '#queues thead th:nth-child(2)', VE.q_waiting);
  await shot(sup, 'supervisor-05-english');

  // no polling: the page holds one WebSocket and asks for no overview while it waits
  const asked = [];
  sup.on('request', (q) => { if (q.url().includes('/api/supervisor/overview')) asked.push(q.url()); });
  await sup.waitForTimeout(2500);
  assert.deepEqual(asked, []);
  // a new customer shows without a reload (pushed)
  const rows = await sup.locator('#conv-body tr').count();
  assert.equal((await simSend(s.url, '+46705550099', EP, 'Hallå')).status, 200);
  await sup.waitForFunction((n) => document.querySelectorAll('#conv-body tr').length === n, rows + 1, { timeout: 3000 });

  // the wallboard: queues only, large
  await sup.click('#wallboard');
  assert.equal(await sup.locator('#reader').isVisible(), false);
  assert.equal(await sup.locator('#agents').isVisible(), false);
  await waitText(sup, '#queues thead th:nth-child(4)', VE.q_sl);
  await shot(sup, 'supervisor-06-wallboard');
  await sup.click('#wallboard');

  // force state: Lena sets Anna to Lunch with a message; Anna's desktop says who and why
  await sup.click(`#agent-body tr[data-id="1"] .a-force`);
  await sup.locator('#force').waitFor({ state: 'visible' });
  await sup.selectOption('#force-state', { label: `${VE.force_idle_reason.replace('{reason}', 'Lunch')}` });
  await sup.fill('#force-message', 'Teammöte');
  await shot(sup, 'supervisor-07-force-state');
  await sup.click('#force button[type="submit"]');
  await sup.locator('#force').waitFor({ state: 'hidden' });
  await waitText(sup, AG(1, 'state-text'), VE.state_idle);
  await waitText(anna, "#error-text", /lena .*: Lunch – Teammöte/);
  await shot(anna, 'supervisor-08-agent-told');
  // logging her out is refused while she holds conversations: said on the form
  await sup.click(`#agent-body tr[data-id="1"] .a-force`);
  await sup.selectOption('#force-state', 'logged_out');
  await sup.click('#force button[type="submit"]');
  await waitText(sup, '#force-error', VE.err_busy);
  // worded again when the language changes (it stayed in the old one)
  await sup.evaluate(() => import('/js/i18n.js').then((m) => m.setLang('sv')));
  await waitText(sup, '#force-error', V.err_busy);
  await sup.evaluate(() => import('/js/i18n.js').then((m) => m.setLang('en')));
  await waitText(sup, '#force-error', VE.err_busy);
  await sup.click('#force-cancel');

  // a long list comes in pages of 100: the page asks the server for the
  // slice it shows, and that slice stays live
  assert.equal(await sup.locator('#convs-pager').isHidden(), true);
  const before = await sup.locator('#conv-body tr').count();
  for (let i = 0; i < 101; i++) await simSend(s.url, `+4670666${String(i).padStart(4, '0')}`, EP, `Kö ${i}`);
  const total = before + 101;
  const range = (from, to, n) => VE.page_range.replace('{from}', from).replace('{to}', to).replace('{total}', n);
  await waitText(sup, '#convs-range', range(1, 100, total), 15000); // 101 SMS under load: a wider bound
  assert.equal(await sup.locator('#conv-body tr').count(), 100);
  assert.equal(await sup.locator('#convs-prev').isDisabled(), true);
  await sup.click('#convs-next');
  await waitText(sup, '#convs-range', range(101, total, total));
  assert.equal(await sup.locator('#conv-body tr').count(), total - 100);
  assert.equal(await sup.locator('#convs-next').isDisabled(), true);
  // (numbers are masked by now: the rows are told apart by id)
  const lastId = async () => Number(await sup.locator('#conv-body tr:last-child').getAttribute('data-id'));
  const was = await lastId();
  await simSend(s.url, '+46706669999', EP, 'En till');
  await waitText(sup, '#convs-range', range(101, total + 1, total + 1));
  assert.equal(await sup.locator('#conv-body tr').count(), total + 1 - 100);
  assert.ok(await lastId() > was);
  await shot(sup, 'supervisor-09-second-page');
  await sup.click('#convs-prev');
  await waitText(sup, '#convs-range', range(1, 100, total + 1));

  assert.deepEqual(problems(sup), []);
  assert.deepEqual(problems(anna), []);
  await erik.close();
  await browser.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
