// Keyboard only and screen readers, against the real server: Anna walks
// every seed flow without a mouse (log in, Tillgänglig, accept, reply,
// conference requested and cancelled, conference, transfer, end, wrap-up),
// and what a screen reader would say is read from the live regions (offer,
// new message, RONA, reconnecting). Focus after each dialog and closed
// conversation, the state menu's arrow keys, the ? overlay, the focus
// ring's contrast, a guest who leaves, and the simulator with masking on
// (real business numbers, errors in the page's language). Every screenshot
// runs axe and the on-screen text check (lib/a11y.mjs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { simSend } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { strings, configFile, until, text, waitText, visible, login, problems } from './lib/desk.mjs';

const EP = '+46700000001';
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const active = (page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

// Presses Tab (or Shift+Tab) until the focused element matches 'sel'.
async function tabTo(page, sel, back = false) {
  for (let i = 0; i < 60; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), sel)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${sel} (at ${await active(page)})`);
}

async function live(page, which = 'assertive') {
  return (await page.locator(`#live-${which}`).textContent()) ?? '';
}

// WCAG contrast of two CSS rgb() colours
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const x = v / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

async function ringContrast(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    const s = getComputedStyle(e);
    let p = e.parentElement;
    let bg = 'rgba(0, 0, 0, 0)';
    while (p && /rgba\(0, 0, 0, 0\)|transparent/.test(bg)) { bg = getComputedStyle(p).backgroundColor; p = p.parentElement; }
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, bg };
  });
}

test('keyboard only, live regions and focus, with the real server (sv)', async () => {
  const L = strings('sv');
  const s = await new Server({ args: ['--config', configFile({ settings: { disconnect_grace_s: 120, mask_sensitive_data: true },
    admins: [{ username: 'admin', password: 'demo-admin' }], supervisors: [{ username: 'lena', password: 'demo-lena' }] })] }).start();
  const browser = await launch();
  cleanup.push(async () => { await browser.close(); s.cleanup(); });
  const anna = await agentPage(browser, s.url);
  const erik = await agentPage(browser, s.url);

  // log in with the keyboard: the form has focus; after login the state menu
  await anna.locator('#login-form').waitFor();
  assert.equal(await active(anna), 'login-user');
  await anna.keyboard.type('anna');
  await anna.keyboard.press('Tab');
  await anna.keyboard.type('demo-anna');
  await anna.keyboard.press('Enter');
  await anna.locator('#conn.online').waitFor();
  await until(async () => (await active(anna)) === 'state-select', 5000, 'focus on the state menu');
  // the ring: solid, >= 2 px, >= 3:1 against what is around it
  const ring = await ringContrast(anna);
  assert.equal(ring.style, 'solid');
  assert.ok(ring.width >= 2, `ring ${ring.width}px`);
  assert.ok(contrast(ring.color, ring.bg) >= 3, `ring ${ring.color} on ${ring.bg}: ${contrast(ring.color, ring.bg).toFixed(2)}:1`);
  await shot(anna, 'a11y-01-after-login');

  // the state menu: arrows on the closed menu only show a choice (no state
  // change on the way), Escape undoes it, Enter commits it
  const sets = () => anna.evaluate(() => window.textdesk.S.me.state);
  await anna.keyboard.press('ArrowDown');
  await anna.keyboard.press('ArrowDown');
  assert.equal(await anna.locator('#state-select').inputValue(), 'idle:2');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(await sets(), 'idle');
  assert.equal(await anna.evaluate(() => window.textdesk.S.me.idle_reason), 0);
  await anna.keyboard.press('Escape');
  assert.equal(await anna.locator('#state-select').inputValue(), 'idle:0');
  await anna.keyboard.press('Home');
  await anna.keyboard.press('Enter');
  await anna.locator('#state-dot.state-available').waitFor();
  assert.equal(await sets(), 'available');

  // an offer is announced (assertive) and does not take the focus
  const CUST = '+46701239876';
  await simSend(s.url, CUST, EP, 'Hej, mitt kort är 4111 1111 1111 1111');
  await anna.locator('.offer').waitFor();
  await until(async () => (await live(anna)).includes(L('offer_route')), 5000, 'offer announced');
  assert.match(await live(anna), /Alt\+A/);
  assert.equal(await active(anna), 'state-select');
  // Alt+A accepts; the composer gets the focus; Enter sends
  await anna.keyboard.press('Alt+a');
  await until(async () => (await active(anna)) === 'composer-text', 5000, 'composer focused');
  await anna.keyboard.type('Hej! Jag tittar på det.');
  await anna.keyboard.press('Enter');
  await anna.locator('.msg-out').waitFor();
  // a new customer message is announced politely
  await simSend(s.url, CUST, EP, 'Tack så mycket');
  await until(async () => (await live(anna, 'polite')).includes('Tack så mycket'), 5000, 'message announced');
  // the skip link is the first Tab stop and leads to the composer
  await tabTo(anna, '#skip', true);
  assert.equal(await anna.evaluate(() => document.querySelector('a[href], button, input, select, textarea, [tabindex="0"]').id), 'skip');
  await anna.keyboard.press('Enter');
  assert.equal(await active(anna), 'composer-text');

  // ? shows the shortcuts; Escape closes them and focus goes back
  await anna.locator('#transcript').focus();
  await anna.keyboard.press('?');
  await anna.locator('#dlg-help[open]').waitFor();
  assert.equal(await anna.locator('#dlg-help kbd').first().textContent(), '?');
  await shot(anna, 'a11y-02-help');
  await anna.keyboard.press('Escape');
  await until(async () => (await active(anna)) === 'transcript', 3000, 'focus back on the transcript');
  assert.equal(await anna.getAttribute('#btn-help', 'aria-keyshortcuts'), '?');
  assert.equal(await anna.getAttribute('#new-outbound', 'aria-keyshortcuts'), 'Alt+N');

  // conference by keyboard; cancelled before Erik answers
  await login(erik, 'erik', 'demo-erik');
  await erik.selectOption('#state-select', 'available');
  await erik.locator('#state-dot.state-available').waitFor();
  await tabTo(anna, '#btn-conference');
  await anna.keyboard.press('Enter');
  await anna.locator('#dlg-conference[open]').waitFor();
  await anna.locator('#conference-list .pick').first().waitFor();
  assert.match(await text(anna, '#conference-refresh'), new RegExp(L('refresh_short')));
  assert.equal(await anna.getAttribute('#conference-refresh', 'title'), L('refresh'));
  await anna.keyboard.type('Erik');
  await anna.keyboard.press('Enter');
  await waitText(anna, '#conf-status', L('conference_requested'));
  await erik.locator('.offer-invited').waitFor();
  assert.equal(await text(anna, '#btn-cancel-conf'), L('cancel_conference'));
  await shot(anna, 'a11y-03-conference-requested');
  await tabTo(anna, '#btn-cancel-conf', true);
  await anna.keyboard.press('Enter');
  await anna.locator('#conf-status').waitFor({ state: 'hidden' });
  await erik.locator('.offer-invited').waitFor({ state: 'detached' });
  await until(async () => (await active(anna)) === 'btn-conference', 3000, 'focus on Konferens');
  await until(async () => (await live(anna, 'polite')).includes(L('live_conf_cancelled')), 3000, 'cancel announced');
  assert.equal(await erik.evaluate(() => window.textdesk.S.me.state), 'available'); // not RONA

  // invited again; Erik accepts with Alt+A, then leaves: he is told the
  // conversation goes on for Anna and the customer
  await anna.keyboard.press('Enter');
  await anna.locator('#dlg-conference[open]').waitFor();
  await anna.locator('#conference-list .pick').first().waitFor();
  await anna.keyboard.press('Enter'); // the single match is picked
  await erik.locator('.offer-invited').waitFor();
  await erik.keyboard.press('Alt+a');
  await waitText(anna, '#conf-status', L('conference_active'));
  await waitText(erik, '#pane-title', /\*+9876/); // masked for agents
  await tabTo(erik, '#btn-exit-conf');
  await erik.keyboard.press('Enter');
  await erik.locator('#dlg-wrapup[open]').waitFor();
  const left = L('wrapup_due_left', { owner: 'Anna Berg' });
  await waitText(erik, '#wrapup-note', left);
  await erik.keyboard.press('Escape'); // Senare
  await waitText(erik, '#pane-wrapup', left);
  await until(async () => (await active(erik)) === 'btn-wrapup', 3000, 'focus on the wrap-up button');
  await shot(erik, 'a11y-04-guest-left');
  await erik.keyboard.press('Enter');
  await erik.locator('#dlg-wrapup[open]').waitFor();
  await erik.keyboard.type('lös');
  await erik.keyboard.press('Enter');
  await erik.locator('.task').waitFor({ state: 'detached' });
  await until(async () => (await active(erik)) === 'pane-empty-text', 3000, 'focus on the empty pane');
  await waitText(anna, '#btn-end', L('end'));

  // transfer to Sälj by keyboard; the wrap-up follows; focus then goes to
  // the empty pane, and the offer that comes back to Anna (she serves
  // Sälj) runs into RONA, which is announced
  await anna.locator('#composer-text').focus();
  await tabTo(anna, '#btn-transfer', true);
  await anna.keyboard.press('Enter');
  await anna.locator('#dlg-transfer[open]').waitFor();
  await anna.locator('#transfer-list .pick').first().waitFor();
  await anna.keyboard.type('Sälj');
  await anna.keyboard.press('Enter');
  await anna.locator('#dlg-wrapup[open]').waitFor();
  await anna.keyboard.type('åter');
  await anna.keyboard.press('Enter');
  await anna.locator('#dlg-wrapup').waitFor({ state: 'hidden' });
  await until(async () => ['pane-empty-text', 'task-list'].includes(await active(anna)) || /^task-/.test(await active(anna)), 3000, 'focus after the wrap-up');
  await anna.locator('#banner-rona').waitFor({ timeout: 10000 });
  await until(async () => (await live(anna)).includes(L('rona_text')), 3000, 'RONA announced');
  await shot(anna, 'a11y-05-rona');
  await tabTo(anna, '#rona-available');
  await anna.keyboard.press('Enter');
  await anna.locator('#banner-rona').waitFor({ state: 'hidden' });
  // offered again: accept, end, wrap-up, all by keyboard
  await anna.locator('.offer').waitFor({ timeout: 10000 });
  await anna.keyboard.press('Alt+a');
  await until(async () => (await active(anna)) === 'composer-text', 5000, 'composer focused');
  await tabTo(anna, '#btn-end', true);
  await anna.keyboard.press('Enter');
  await anna.locator('#dlg-wrapup[open]').waitFor();
  await anna.keyboard.press('ArrowDown');
  await anna.keyboard.press('Enter');
  await anna.locator('.task').waitFor({ state: 'detached' });
  await until(async () => (await active(anna)) === 'pane-empty-text', 3000, 'focus on the empty pane');

  // reconnecting is announced
  await s.kill9();
  await until(async () => (await live(anna)).includes(L('conn_lost')), 5000, 'reconnecting announced');
  await s.start();
  await anna.locator('#conn.online').waitFor({ timeout: 15000 });
  await until(async () => (await live(anna, 'polite')).includes(L('live_online')), 5000, 'back online announced');

  // the simulator plays the customer: real business numbers with masking
  // on, and a refused message explained in the page's language
  const phone = await agentPage(browser, s.url);
  await phone.goto(`${s.url}/sim/`);
  await phone.locator(`#to option[value="${EP}"]`).waitFor({ state: 'attached' });
  assert.deepEqual(await phone.locator('#to option').allTextContents(), [EP, '71000']);
  await phone.evaluate(() => { const o = new Option('+4600000', '+4600000'); document.getElementById('to').append(o); o.selected = true; });
  await phone.fill('#text', 'Hej');
  await phone.keyboard.press('Enter');
  const SIM = JSON.parse((await import('node:fs')).readFileSync(new URL('../../web/sim/i18n/sv.json', import.meta.url)));
  await waitText(phone, '#status', SIM.sim_err_no_such_entry_point.replace('{number}', '+4600000'));
  await shot(phone, 'a11y-06-simulator-error');

  // a fresh page asks for the session without an error in the console
  const fresh = await agentPage(browser, s.url);
  await fresh.locator('#login-form').waitFor();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(fresh.problems, []);
  // the supervisor and administrator pages on a phone: no sideways
  // scroll (wide tables scroll inside their card), axe clean
  for (const [path, user, pass, ready] of [['/supervisor', 'lena', 'demo-lena', '#agent-body tr'], ['/admin', 'admin', 'demo-admin', '#list-body tr']]) {
    const p = await agentPage(browser, s.url, { viewport: { width: 390, height: 844 } });
    await p.goto(`${s.url}${path}/`);
    await p.locator('#login-form').waitFor();
    await p.fill('#login-user', user);
    await p.fill('#login-pass', pass);
    await p.keyboard.press('Enter');
    await p.locator(ready).first().waitFor();
    const w = await p.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(w[0] <= w[1], `${path} scrolls sideways on a phone (${w})`);
    await shot(p, `a11y-07-${path.slice(1)}-390x844`);
    if (path === '/admin') {
      // every other tab of the administrator's page, by keyboard, axe-checked
      const kinds = await p.locator('.tab:not([hidden])').evaluateAll((bs) => bs.map((b) => b.dataset.kind));
      await p.focus('.tab[aria-selected="true"]');
      for (const kind of kinds.slice(1)) {
        await p.keyboard.press('ArrowRight');
        await p.locator(`.tab[data-kind="${kind}"][aria-selected="true"]`).waitFor();
        await shot(p, `a11y-08-admin-${kind}`);
      }
    }
    assert.deepEqual(p.problems, []);
    await p.context().close();
  }
  for (const p of [anna, erik]) assert.deepEqual(problems(p), []);
  assert.deepEqual(problems(phone).filter((m) => !/status of 422.*\/api\/sim\/send$/.test(m)), []); // the refused SMS above
  for (const p of [anna, erik, phone, fresh]) await p.context().close();
});
