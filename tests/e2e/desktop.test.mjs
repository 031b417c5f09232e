// The agent desktop in Debian's headless Chromium against the real server:
// Anna and Erik in two browser contexts and the simulator customer play
// every seed flow end to end, once in Swedish and once in English,
// asserting what is on screen. Screenshots go to test-output/screens/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { simSend, simInbox } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { strings, configFile, until, text, waitText, visible, login, bg, problems } from './lib/desk.mjs';

const EP = '+46700000001';
const BLUE = 'rgb(11, 92, 213)';
const GREY = 'rgb(230, 233, 237)';
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function setup() {
  const s = new Server({ args: ['--config', configFile()] });
  await s.start();
  const browser = await launch();
  cleanup.push(async () => { await browser.close(); s.cleanup(); });
  return { s, browser };
}

async function flows(lang) {
  const L = strings(lang);
  const tag = (n) => `${lang}-${n}`;
  const { s, browser } = await setup();
  // Swedish is the default; English is picked on the login page (and must
  // then be remembered across a reload).
  const anna = await agentPage(browser, s.url);
  const erik = await agentPage(browser, s.url, { lang });
  await anna.locator('#login-form').waitFor();
  assert.equal(await text(anna, '#login-submit'), 'Logga in');
  if (lang === 'en') {
    await anna.click('.login .lang-btn[data-lang="en"]');
    await waitText(anna, '#login-submit', L('login'));
    await anna.reload();
    await waitText(anna, '#login-submit', L('login'));
  }
  await anna.fill('#login-user', 'anna');
  await anna.fill('#login-pass', 'wrong');
  await anna.click('#login-submit');
  await waitText(anna, '#login-error', L('login_failed'));
  await shot(anna, tag('01-login-error'));
  // guessing on: past 3 failures of a name from here the server makes the
  // next try wait (429); the form says how long, not a status code
  await anna.fill('#login-user', `ghost-${lang}`);
  let slowed;
  for (let i = 0; i < 6 && !slowed; i++) {
    const [resp] = await Promise.all([anna.waitForResponse((r) => r.url().endsWith('/api/login')), anna.click('#login-submit')]);
    if (resp.status() === 429) slowed = await resp.json();
  }
  assert.ok(slowed, 'the guesser was slowed down');
  await waitText(anna, '#login-error', L('login_wait', { s: slowed.retry_after_s }));
  await login(anna, 'anna', 'demo-anna');
  // Enter twice while the password is checked: one login, no error (a
  // second one at once would be refused 429)
  let posts = 0;
  const count = (r) => { if (r.url().endsWith('/api/login') && r.method() === 'POST') posts++; };
  erik.on('request', count);
  await erik.fill('#login-user', 'erik');
  await erik.fill('#login-pass', 'demo-erik');
  await erik.press('#login-pass', 'Enter');
  await erik.press('#login-pass', 'Enter');
  await erik.locator('#desk').waitFor({ state: 'visible' });
  await erik.locator('#conn.online').waitFor({ state: 'attached' });
  erik.off('request', count);
  assert.equal(posts, 1, 'one login for two presses of Enter');
  assert.equal(await erik.locator('#login-error').textContent(), '');

  // header: name, state selector (agents start Idle), then Available
  assert.equal(await text(anna, '#agent-name'), 'Anna Berg');
  await waitText(anna, '#state-select option:checked', L('state_idle'));
  assert.ok(await anna.locator('#state-dot.state-idle').count());
  const labels = await anna.locator('#state-select option').allTextContents();
  assert.deepEqual(labels, [L('state_available'), L('state_idle'),
    L('state_idle_reason', { reason: 'Lunch' }), L('state_idle_reason', { reason: 'Möte' }),
    L('state_idle_reason', { reason: 'Utbildning' })]);
  await anna.selectOption('#state-select', 'idle:1');
  await until(async () => (await anna.locator('#state-select').inputValue()) === 'idle:1', 5000, 'idle Lunch');
  await anna.selectOption('#state-select', 'available');
  await anna.locator('#state-dot.state-available').waitFor();
  await waitText(anna, '#state-select option:checked', L('state_available'));
  assert.equal(await anna.locator('#tasks-empty').isVisible(), true);
  await shot(anna, tag('02-available-empty'));

  // offer popup with a live timer; Accept opens the interaction pane
  const CUST = lang === 'sv' ? '+46701112233' : '+46702223344';
  // the customer is the simulator page in a third context
  const phone = await agentPage(browser, s.url);
  await phone.goto(`${s.url}/sim/`);
  await phone.locator(`#to option[value="${EP}"]`).waitFor({ state: 'attached' });
  await phone.fill('#from', CUST);
  await phone.selectOption('#to', EP);
  await phone.fill('#text', 'Hej, jag behöver hjälp med min faktura');
  await phone.keyboard.press('Enter');
  await waitText(phone, '#status', 'Skickat');
  await waitText(phone, '#thread li.me', /faktura/);
  await anna.locator('.offer').waitFor();
  assert.equal(await text(anna, '.offer h3'), L('offer_route'));
  assert.equal(await text(anna, '.offer-queue'), 'Kundtjänst');
  assert.equal(await text(anna, '.offer-number'), CUST);
  assert.equal(await text(anna, '.offer-ep'), EP);
  assert.equal(await text(anna, '#offers-range'), L('offers_range', { from: 1, to: 1, n: 1 }));
  await waitText(anna, '.offer-timer', /^00:0[1-9]$/, 4000);
  assert.equal(await text(anna, '.offer .accept'), L('accept'));
  await shot(anna, tag('03-offer'));
  await anna.click('.offer .accept');
  await anna.locator('#offers').waitFor({ state: 'hidden' });
  await waitText(anna, '#pane-title', CUST);
  assert.equal(await text(anna, '#pane-sub'), L('via', { queue: 'Kundtjänst', ep: EP }));
  await anna.locator('.task[aria-selected="true"]').waitFor();
  assert.equal(await text(anna, '.task .task-title'), CUST);
  // customer bubble: left, grey, with initials
  await anna.locator('.msg-in .bubble-customer').waitFor();
  assert.equal(await text(anna, '.msg-in .avatar'), CUST.slice(-2));
  assert.equal(await bg(anna, '.bubble-customer'), GREY);
  assert.match(await text(anna, '.msg-in .text'), /faktura/);
  assert.equal(await anna.evaluate(() => document.activeElement.id), 'composer-text');
  // controls of an owner without conference
  for (const [id, key] of [['#btn-transfer', 'transfer'], ['#btn-conference', 'conference'], ['#btn-end', 'end']]) {
    assert.equal(await visible(anna, id), true, id);
    assert.equal(await text(anna, id), L(key));
  }
  assert.equal(await visible(anna, '#btn-exit-conf'), false);
  // variables panel
  assert.deepEqual(await anna.locator('#vars dt').allTextContents(), [L('var_customer_number'), L('var_entry_point')]);
  assert.deepEqual(await anna.locator('#vars dd').allTextContents(), [CUST, EP]);
  await waitText(anna, '#hist-empty', L('history_empty')); // a first-time customer

  // composer: placeholder, live counter via sms_info, hard stop, keys
  const ta = anna.locator('#composer-text');
  assert.equal(await ta.getAttribute('placeholder'), L('composer_placeholder', { number: CUST }));
  assert.equal(await anna.locator('#composer-send').isDisabled(), true);
  await ta.fill('Hej');
  await waitText(anna, '#composer-count', L('composer_count', { chars: 3, segments: 1, encoding: 'GSM-7' }));
  await ta.fill('Hej 😀');
  await waitText(anna, '#composer-count', L('composer_count', { chars: 6, segments: 1, encoding: 'UCS-2' }));
  await ta.fill('a'.repeat(161));
  await waitText(anna, '#composer-count', L('composer_count', { chars: 161, segments: 2, encoding: 'GSM-7' }));
  await ta.fill('b'.repeat(1200));
  assert.equal((await ta.inputValue()).length, 1000); // hard stop
  await waitText(anna, '#composer-count', L('composer_count', { chars: 1000, segments: 7, encoding: 'GSM-7' }));
  await shot(anna, tag('04-composer-full'));
  await ta.fill('');
  await ta.focus();
  await anna.keyboard.type('Hej! Vad gäller det?');
  await anna.keyboard.press('Shift+Enter');
  await anna.keyboard.type('Mvh Anna');
  assert.equal(await ta.inputValue(), 'Hej! Vad gäller det?\nMvh Anna');
  assert.equal(await anna.locator('#composer-send').isEnabled(), true);
  await anna.keyboard.press('Enter');
  await anna.locator('.msg-out .bubble-agent').waitFor();
  assert.equal(await ta.inputValue(), '');
  assert.equal(await text(anna, '.msg-out .text'), 'Hej! Vad gäller det?\nMvh Anna');
  assert.equal(await bg(anna, '.bubble-agent'), BLUE);
  // agent bubble on the right, customer bubble on the left
  const inBox = await anna.locator('.bubble-customer').first().boundingBox();
  const outBox = await anna.locator('.bubble-agent').first().boundingBox();
  assert.ok(outBox.x + outBox.width > inBox.x + inBox.width + 100, 'agent bubble right of customer bubble');
  assert.ok(inBox.x < 340, 'customer bubble at the left edge of the pane');
  await anna.locator('.msg-out .status-delivered').waitFor();
  assert.equal(await anna.locator('.msg-out .status .visually-hidden').first().textContent(), L('status_delivered'));
  const inbox = await until(async () => { const m = await simInbox(s.url, CUST); return m.length ? m : null; });
  assert.equal(inbox[0].text, 'Hej! Vad gäller det?\nMvh Anna');
  await waitText(phone, '#thread li.them', /Hej! Vad gäller det\?\s*Mvh Anna/, 5000);
  await shot(phone, tag('05b-simulator'));
  await simSend(s.url, CUST, EP, 'Fakturan är för hög');
  await until(async () => (await anna.locator('.msg-in').count()) === 2, 5000, 'second customer message');
  assert.equal(await anna.locator('.task .badge').count(), 0, 'no unread badge for the open conversation');
  await shot(anna, tag('05-conversation'));

  // conference: Anna invites Erik, who accepts from his popup
  await erik.selectOption('#state-select', 'available');
  await erik.locator('#state-dot.state-available').waitFor();
  await anna.click('#btn-conference');
  await anna.locator('#dlg-conference[open]').waitFor();
  assert.equal(await anna.evaluate(() => document.activeElement.id), 'conference-search');
  assert.equal(await text(anna, '#dlg-conference-title'), L('conference_title'));
  await anna.locator('#conference-list .pick').first().waitFor();
  await anna.keyboard.type('eri');
  assert.deepEqual(await anna.locator('#conference-list .pick').allTextContents(), ['Erik Lund']);
  await anna.fill('#conference-search', 'zzz');
  await waitText(anna, '#conference-list .empty', L('no_agents'));
  await anna.fill('#conference-search', 'Erik');
  await anna.click('#conference-refresh');
  await anna.locator('#conference-list .pick').first().waitFor();
  await shot(anna, tag('06-conference-dialog'));
  await anna.click('#conference-ok');
  await anna.locator('#dlg-conference').waitFor({ state: 'hidden' });
  await waitText(anna, '#conf-status', L('conference_requested'));
  assert.equal(await visible(anna, '#btn-conference'), false);
  await erik.locator('.offer-invited').waitFor();
  assert.equal(await text(erik, '.offer h3'), L('offer_invite', { agent: 'Anna Berg' }));
  await shot(erik, tag('07-conference-invite'));
  await erik.click('.offer .accept');
  await waitText(anna, '#conf-status', L('conference_active'));
  await waitText(anna, '.sys-conference_joined span', L('sys_conference_joined', { agent: 'Erik Lund' }));
  await waitText(anna, '#btn-end', L('end_conference'));
  await waitText(erik, '#pane-title', CUST);
  assert.equal(await visible(erik, '#btn-exit-conf'), true);
  assert.equal(await text(erik, '#btn-exit-conf'), L('exit_conference'));
  assert.equal(await visible(erik, '#btn-end'), false);
  assert.equal(await visible(erik, '#btn-transfer'), false);
  await until(async () => (await erik.locator('.msg').count()) >= 3, 5000, 'transcript for Erik');
  await erik.fill('#composer-text', 'Erik här, jag hjälper till.');
  await erik.keyboard.press('Enter');
  await waitText(anna, '.msg-out >> nth=-1 >> .who', 'Erik Lund:');
  assert.equal(await bg(anna, '.msg-out >> nth=-1 >> .bubble-agent'), BLUE);
  await shot(anna, tag('08-conference-active'));
  await erik.click('#btn-exit-conf');
  await erik.locator('#dlg-wrapup[open]').waitFor();
  assert.equal(await text(erik, '#wrapup-ok'), L('submit_wrapup'));
  await erik.keyboard.type('lös');
  assert.deepEqual(await erik.locator('#wrapup-list .pick').allTextContents(), ['Löst']);
  await shot(erik, tag('09-wrapup-dialog'));
  await erik.click('#wrapup-ok');
  await erik.locator('#dlg-wrapup').waitFor({ state: 'hidden' });
  await erik.locator('.task').waitFor({ state: 'detached' });
  await waitText(anna, '.sys-conference_left span', L('sys_conference_left', { agent: 'Erik Lund' }));
  await until(async () => !(await visible(anna, '#conf-status')), 5000, 'conference over');
  assert.equal(await text(anna, '#btn-end'), L('end'));

  // transfer dialog: Queue / Agent, search, refresh, Escape closes
  await anna.click('#btn-transfer');
  await anna.locator('#dlg-transfer[open]').waitFor();
  assert.equal(await anna.evaluate(() => document.activeElement.id), 'transfer-search');
  await anna.locator('#transfer-list .pick').first().waitFor();
  assert.deepEqual(await anna.locator('#transfer-list .pick').allTextContents(), ['Kundtjänst', 'Sälj']);
  await anna.keyboard.press('Escape');
  await anna.locator('#dlg-transfer').waitFor({ state: 'hidden' });
  await anna.click('#btn-transfer');
  await anna.locator('#transfer-list .pick').first().waitFor();
  await anna.fill('#transfer-search', 'sä');
  assert.deepEqual(await anna.locator('#transfer-list .pick').allTextContents(), ['Sälj']);
  await anna.fill('#transfer-search', '');
  await anna.check('#dlg-transfer input[value="agent"]');
  await anna.click('#transfer-refresh');
  await waitText(anna, '#transfer-list .pick', 'Erik Lund');
  await anna.check('#transfer-list input');
  await shot(anna, tag('10-transfer-dialog'));
  await anna.click('#transfer-ok');
  await anna.locator('#dlg-wrapup[open]').waitFor(); // wrap-up follows the transfer
  await waitText(anna, '#wrapup-for', L('wrapup_for', { title: CUST }));
  await erik.locator('.offer').waitFor();
  // the protocol does not say who transferred yet (docs/desktop.md: gaps)
  assert.equal(await text(erik, '.offer h3'), L('offer_transfer', { agent: 'Anna Berg' })); // who transferred
  await erik.click('.offer .accept');
  await waitText(erik, '#pane-title', CUST);
  await until(async () => (await erik.locator('.msg').count()) >= 4, 5000, 'history after transfer');
  await anna.fill('#wrapup-search', 'åter');
  assert.deepEqual(await anna.locator('#wrapup-list .pick').allTextContents(), ['Återkommer']);
  await anna.keyboard.press('Enter'); // a single match is picked; Enter submits
  await anna.locator('#dlg-wrapup').waitFor({ state: 'hidden' });
  await anna.locator('.task').waitFor({ state: 'detached' });
  assert.equal(await visible(anna, '#pane-empty'), true);

  // end -> wrap-up with searchable reasons -> Submit wrap-up (Erik)
  await erik.click('#btn-end');
  await erik.locator('#dlg-wrapup[open]').waitFor();
  assert.equal(await erik.locator('#wrapup-list .pick').count(), 3);
  await erik.check('#wrapup-list input[value="1"]');
  await erik.click('#wrapup-ok');
  await erik.locator('.task').waitFor({ state: 'detached' });

  // outbound: pick an entry point, type a number; opens assigned to Anna
  const OUT = lang === 'sv' ? '+46709990001' : '+46709990002';
  await anna.click('#new-outbound');
  await anna.locator('#dlg-outbound[open]').waitFor();
  assert.deepEqual(await anna.locator('#outbound-ep option').allTextContents(), [EP, '71000']);
  // no number, or one no SMS can go to: said in the agent's language with
  // what to write (before: "Invalid value."); blanks and dashes as people
  // write a number are dropped
  await anna.click('#outbound-ok');
  await waitText(anna, '#outbound-error', L('err_outbound_number'));
  await anna.fill('#outbound-number', '070 999 ¤¤');
  await anna.click('#outbound-ok');
  await waitText(anna, '#outbound-error', L('err_outbound_number'));
  await shot(anna, tag('11-outbound-number-refused'));
  await anna.fill('#outbound-number', OUT.replace(/^(\+46)(\d\d)(\d{3})(\d\d)(\d\d)$/, '$1 $2-$3 $4 $5'));
  assert.equal(await text(anna, '#outbound-error'), '');
  await shot(anna, tag('11-outbound-dialog'));
  await anna.click('#outbound-ok');
  await waitText(anna, '#pane-title', OUT);
  assert.equal(await text(anna, '#pane-sub'), L('via_outbound', { ep: EP }));
  await anna.fill('#composer-text', 'Hej, vi ringer angående din order.');
  await anna.click('#composer-send');
  await anna.locator('.msg-out').waitFor();
  await until(async () => (await simInbox(s.url, OUT)).length === 1, 5000, 'outbound delivered');

  // connection lost: typed text survives, the desktop resyncs on return
  await anna.fill('#composer-text', 'Text som inte får försvinna');
  await s.kill9();
  await anna.locator('#banner-conn').waitFor();
  assert.equal(await text(anna, '#banner-conn'), L('conn_lost'));
  assert.equal(await text(anna, '#conn'), L('conn_reconnecting'));
  assert.equal(await anna.locator('#composer-send').isDisabled(), true);
  await shot(anna, tag('12-reconnecting'));
  await simSend(s.url, OUT, EP, 'x').catch(() => {}); // server down: refused
  await s.start();
  await simSend(s.url, OUT, EP, 'Svar medan du var borta');
  await anna.locator('#banner-conn').waitFor({ state: 'hidden', timeout: 15000 });
  await waitText(anna, '#pane-title', OUT);
  assert.equal(await anna.locator('#composer-text').inputValue(), 'Text som inte får försvinna');
  await waitText(anna, '.msg-in >> nth=-1 >> .text', 'Svar medan du var borta');
  await anna.click('#composer-send');
  await until(async () => (await anna.locator('.msg-out').count()) === 2, 5000, 'sent after reconnect');
  await erik.locator('#conn.online').waitFor({ timeout: 15000 });

  // logging out is refused while Anna holds a conversation
  await anna.click('#logout');
  await waitText(anna, '#error-text', L('logout_busy'));
  await anna.click('#btn-end');
  await anna.check('#wrapup-list input[value="1"]');
  await anna.click('#wrapup-ok');
  await anna.locator('.task').waitFor({ state: 'detached' });

  // RONA: an offer on Sälj (3 s timeout) left alone; the banner says how
  // to become Available again
  await anna.locator('#state-dot.state-available').waitFor();
  await simSend(s.url, '+46708887766', '71000', 'Jag vill köpa');
  await anna.locator('.offer').waitFor();
  await anna.locator('#banner-rona').waitFor({ timeout: 10000 });
  assert.equal(await text(anna, '#rona-text'), L('rona_text'));
  await waitText(anna, '#state-select option:checked', L('state_rona'));
  assert.ok(await anna.locator('#state-dot.state-rona').count());
  await shot(anna, tag('13-rona'));
  await anna.click('#rona-available');
  await anna.locator('#banner-rona').waitFor({ state: 'hidden' });
  await anna.locator('#state-dot.state-available').waitFor();
  // offered again; accepted; ended: the auto wrap-up counts down and runs
  await anna.locator('.offer .accept').click({ timeout: 10000 });
  await waitText(anna, '#pane-title', '+46708887766');
  await anna.click('#btn-end');
  await anna.locator('#dlg-wrapup[open]').waitFor();
  await waitText(anna, '#wrapup-countdown', /\d\d:\d\d/);
  assert.match(await text(anna, '#wrapup-countdown'), new RegExp(L('auto_wrapup', { time: '00:0\\d' })));
  await shot(anna, tag('14-auto-wrapup'));
  await anna.keyboard.press('Escape');
  await waitText(anna, '#pane-wrapup', new RegExp(L('wrapup_due')));
  assert.equal(await visible(anna, '#btn-wrapup'), true);
  assert.equal(await anna.locator('#composer-text').isDisabled(), true);
  await anna.locator('.task').waitFor({ state: 'detached', timeout: 10000 });

  // the language switch in the header is remembered
  const other = lang === 'sv' ? 'en' : 'sv';
  const O = strings(other);
  await anna.click(`.top .lang-btn[data-lang="${other}"]`);
  await waitText(anna, '#logout', O('logout'));
  await anna.reload();
  await waitText(anna, '#logout', O('logout'));
  await waitText(anna, '#tasks-title', O('tasks'));
  await anna.click(`.top .lang-btn[data-lang="${lang}"]`);
  await waitText(anna, '#logout', L('logout'));

  // logout
  await anna.click('#logout');
  await anna.locator('#login-form').waitFor();

  assert.deepEqual(problems(anna), []);
  assert.deepEqual(problems(erik), []);
  assert.deepEqual(problems(phone), []);
  await phone.context().close();
  await anna.context().close();
  await erik.context().close();
  const st = await s.stop();
  assert.equal(st.code, 0, s.output);
}

test('every seed flow in Swedish', () => flows('sv'));
test('every seed flow in English', () => flows('en'));
