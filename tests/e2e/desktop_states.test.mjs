// Desktop states the real server cannot produce on demand yet, and volume:
// the page is served and logged in by the real textdesk, but its /ws is
// answered by a scripted protocol peer (Playwright routeWebSocket) that
// speaks docs/api.md. Covers: resource removed (state "terminated"),
// stacked offers with accept-all, failed delivery, 200 conversations and a
// 2,000-message transcript, keyboard-only use and accessible names.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { strings, until, text, waitText, visible, login, problems } from './lib/desk.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const T0 = Date.now() - 3600e3;
const ME = { id: 1, name: 'Anna Berg', state: 'available', idle_reason: 0, connected: true, capacity: 300, load: 0, reserved: 0, engaged: false, state_since: T0 };

function conv(id, over = {}) {
  const number = `+4670${String(1000000 + id).slice(-7)}`;
  return {
    id, number, ep_number: '+46700000001', name: '', queue: 1, queue_name: 'Kundtjänst', state: 'assigned',
    role: 'owner', offer_kind: 'route', offer_deadline: 0, conference: 'none', owner: 1, owner_name: 'Anna Berg',
    guest: 0, guest_name: '', outbound: false, opened_at: T0 + id * 1000, terminated: null, wrapup_due: false,
    wrapup_deadline: 0, variables: { customer_number: number, entry_point: '+46700000001' }, ...over,
  };
}

function transcript(id, n) {
  const out = [];
  for (let i = 1; i <= n; i++) {
    const inbound = i % 2 === 1;
    out.push({ seq: id * 10000 + i, dir: inbound ? 'in' : 'out', text: `${inbound ? 'Kund' : 'Agent'} meddelande ${i} i konversation ${id}`,
      agent: inbound ? 0 : 1, at: T0 + id * 1000 + i * 100, status: inbound ? 'received' : 'delivered', error: '' });
  }
  return out;
}

// A scripted server: 'convs' are in the snapshot; 'sizes' maps conv id to
// its transcript length (default 2). Commands are answered like textdesk.
class Peer {
  constructor(page, { convs = [], sizes = {} } = {}) {
    this.page = page;
    this.convs = new Map(convs.map((c) => [c.id, c]));
    this.sizes = sizes;
    this.cmds = [];
    this.seq = 900000;
  }

  async route() {
    await this.page.routeWebSocket(/\/ws$/, (ws) => {
      this.ws = ws;
      ws.onMessage((m) => this.onCmd(JSON.parse(m)));
      this.send({ type: 'snapshot', protocol: 1, me: ME, conversations: [...this.convs.values()],
        queues: [{ id: 1, name: 'Kundtjänst' }, { id: 2, name: 'Sälj' }],
        entry_points: [{ id: 1, number: '+46700000001' }, { id: 2, number: '71000' }],
        wrapup_reasons: [{ id: 1, name: 'Löst' }, { id: 2, name: 'Återkommer' }, { id: 3, name: 'Felaktigt nummer' }],
        idle_reasons: [{ id: 1, name: 'Lunch' }] });
    });
  }

  send(ev) { this.ws.send(JSON.stringify(ev)); }

  upsert(c) { this.convs.set(c.id, c); this.send({ type: 'conversation', conversation: c }); }

  onCmd(m) {
    this.cmds.push(m);
    // refuse[cmd] = code: answered as textdesk refuses, with English words
    const no = this.refuse?.[m.cmd];
    if (no) return this.send({ type: 'result', id: m.id, ok: false, error: no, message: `SERVER ENGLISH ${no}: do X` });
    const ok = (extra = {}) => this.send({ type: 'result', id: m.id, ok: true, ...extra });
    const c = this.convs.get(m.conv);
    switch (m.cmd) {
    case 'messages': ok({ conv: m.conv, messages: transcript(m.conv, this.sizes[m.conv] ?? 2) }); return this.afterMessages?.(m);
    case 'sms_info': {
      const ucs = /[^\x20-\x7e\n]/.test(m.text);
      const per = ucs ? 67 : 153;
      const segments = m.text.length <= (ucs ? 70 : 160) ? 1 : Math.ceil(m.text.length / per);
      return ok({ encoding: ucs ? 'ucs2' : 'gsm7', segments, units: m.text.length, chars: m.text.length });
    }
    case 'transfer_targets': return ok({ queues: [{ id: 1, name: 'Kundtjänst' }, { id: 2, name: 'Sälj' }], agents: [{ id: 2, name: 'Erik Lund' }] });
    case 'accept': this.upsert({ ...c, role: 'owner', state: 'assigned', owner: 1, owner_name: 'Anna Berg' }); return ok();
    case 'end': this.upsert({ ...c, role: 'wrapup', state: 'wrapup', wrapup_due: true }); return ok();
    case 'wrapup': this.convs.delete(m.conv); this.send({ type: 'conversation_removed', conv: m.conv }); return ok();
    case 'send': {
      const seq = ++this.seq;
      this.send({ type: 'message', conv: m.conv, message: { seq, dir: 'out', text: m.text, agent: 1, agent_name: 'Anna Berg', at: Date.now(), status: 'queued' } });
      this.lastSent = seq;
      return ok();
    }
    default: return ok();
    }
  }
}

async function setup(lang, opts) {
  if (!setup.server) {
    setup.server = await new Server().start();
    setup.browser = await launch();
    cleanup.push(async () => { await setup.browser.close(); setup.server.cleanup(); });
  }
  const page = await agentPage(setup.browser, setup.server.url, { lang, viewport: opts.viewport });
  const peer = new Peer(page, opts);
  await peer.route();
  if (opts.before) await page.evaluate(opts.before); // before the desk connects
  await login(page, 'anna', 'demo-anna');
  return { page, peer, L: strings(lang) };
}

for (const lang of ['sv', 'en']) {
  test(`resource removed: warning, composer disabled, only End (${lang})`, async () => {
    const { page, peer, L } = await setup(lang, { convs: [conv(1), conv(2, { state: 'terminated', terminated: 'queue_removed' })] });
    await waitText(page, '#pane-title', conv(1).number);
    assert.equal(await page.locator('#composer-text').isEnabled(), true);
    // conversation 1 loses its resource while the agent looks at it
    await page.fill('#composer-text', 'utkast');
    peer.upsert({ ...conv(1), state: 'terminated', terminated: 'queue_removed' });
    peer.send({ type: 'system', conv: 1, event: 'terminated', agent: 0, agent_name: '', why: 'queue_removed', at: Date.now() });
    await page.locator('#pane-warning').waitFor();
    assert.equal(await text(page, '#pane-warning'), L('terminated_warning'));
    // said to screen readers at once (assertive); the composer it was
    // typing in is disabled, so the focus moves to End, what is left to do
    await until(async () => (await text(page, '#live-assertive')).includes(L('terminated_warning')), 3000, 'announced');
    await until(async () => (await page.evaluate(() => document.activeElement.id)) === 'btn-end', 3000, 'focus on End');
    await waitText(page, '.sys-terminated span', L('sys_terminated'));
    assert.equal(await page.locator('#composer-text').isDisabled(), true);
    assert.equal(await page.locator('#composer-send').isDisabled(), true);
    for (const id of ['#btn-transfer', '#btn-conference', '#btn-exit-conf', '#btn-wrapup'])
      assert.equal(await visible(page, id), false, id);
    assert.equal(await visible(page, '#btn-end'), true);
    assert.equal(await text(page, '#btn-end'), L('end'));
    assert.ok(await page.locator('.task.terminated').count() === 2);
    await shot(page, `${lang}-20-terminated`);
    await page.click('#btn-end');
    await page.locator('#dlg-wrapup[open]').waitFor();
    await page.check('#wrapup-list input[value="1"]');
    await page.click('#wrapup-ok');
    await until(async () => (await page.locator('.task').count()) === 1, 5000, 'wrapped up');
    assert.deepEqual(peer.cmds.filter((c) => ['end', 'wrapup'].includes(c.cmd)).map((c) => [c.cmd, c.conv, c.reason]),
      [['end', 1, undefined], ['wrapup', 1, 1]]);
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });
}

test('stacked offers: 1-3 of 5, paging, accept all; failed delivery', async () => {
  const { page, peer, L } = await setup('sv', { convs: [conv(1)] });
  await waitText(page, '#pane-title', conv(1).number);
  // with the tab hidden, an offer raises a Notification (and a tone)
  await page.evaluate(() => {
    window.hiddenNow = true;
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => window.hiddenNow });
    window.notes = [];
    window.Notification = class { constructor(title, o) { window.notes.push([title, o.body]); } };
    window.Notification.permission = 'granted';
  });
  for (let id = 11; id <= 15; id++) {
    if (id === 12) await page.evaluate(() => { window.hiddenNow = false; });
    peer.upsert(conv(id, { state: 'offered', role: 'offered', owner: 0, owner_name: '', queue_name: id % 2 ? 'Kundtjänst' : 'Sälj' }));
    if (id === 11) await until(() => page.evaluate(() => window.notes.length === 1), 5000, 'notification');
  }
  assert.deepEqual(await page.evaluate(() => window.notes), [['textdesk', L('notify_offer', { number: conv(11).number })]]);
  await waitText(page, '#offers-range', L('offers_range', { from: 1, to: 3, n: 5 }));
  assert.equal(await page.locator('.offer').count(), 3);
  assert.equal(await page.title(), '(5) textdesk');
  await shot(page, 'sv-21-offers-stacked');
  await page.click('#offers-next');
  await waitText(page, '#offers-range', L('offers_range', { from: 4, to: 5, n: 5 }));
  assert.equal(await page.locator('.offer').count(), 2);
  assert.equal(await page.locator('#offers-next').isDisabled(), true);
  await page.click('#offers-accept-all');
  await page.locator('#offers').waitFor({ state: 'hidden' });
  await until(async () => (await page.locator('.task').count()) === 6, 5000, 'six tasks');
  assert.deepEqual(peer.cmds.filter((c) => c.cmd === 'accept').map((c) => c.conv), [11, 12, 13, 14, 15]);
  // a failed delivery shows on the agent's bubble
  await page.locator('.task').first().click();
  await page.fill('#composer-text', 'Det här går inte fram');
  await page.keyboard.press('Enter');
  await page.locator('.msg-out .status-queued').last().waitFor();
  peer.send({ type: 'delivery', conv: 1, seq: peer.lastSent, status: 'failed', error: 'absent subscriber' });
  await page.locator('.msg-out >> nth=-1 >> .status-failed').waitFor();
  assert.equal(await page.locator('.msg-out >> nth=-1 >> .status .status-word').textContent(), L('status_failed'));
  await deliveryExplained(page, L, 'failed', 'absent subscriber');
  await until(async () => (await text(page, '#live-assertive')).includes(L('live_failed', { to: conv(1).number })), 3000, 'failure announced');
  assert.doesNotMatch(await text(page, '#live-assertive'), /absent subscriber/);
  await shot(page, 'sv-22-delivery-failed');
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

// The last agent bubble explains a failed or doubtful delivery in the
// agent's language with what to do; the gateway's raw text (the receiver's
// words, English or a code) is not in its place, only behind Details,
// which the keyboard opens. Before: the raw text was the only explanation
// (the status's title and the announcement).
async function deliveryExplained(page, L, status, raw) {
  const last = page.locator('.msg-out >> nth=-1');
  await until(async () => (await last.locator('.delivery-why').count()) === 1, 3000, `${status} explained`);
  assert.equal(await last.locator('.delivery-why').textContent(), L(`delivery_${status}`));
  assert.equal(await last.locator('.status').getAttribute('title'), L(`status_${status}`));
  assert.equal(await last.locator('.delivery-raw').isVisible(), false, 'raw text hidden until asked for');
  await last.locator('.delivery-detail summary').focus();
  await page.keyboard.press('Enter');
  await last.locator('.delivery-raw').waitFor();
  assert.equal(await last.locator('.delivery-raw').textContent(), raw);
  assert.equal(await last.locator('.delivery-detail summary').textContent(), L('delivery_details'));
}

// The one-click resend beside the explanation, by keyboard: Shift+Tab from
// Details reaches it (before, a failed bubble's button was white on the
// status's white badge: there, but unreadable, and never tried by a test).
async function resendByKeyboard(page, peer) {
  const last = page.locator('.msg-out >> nth=-1');
  await last.locator('.delivery-detail summary').focus();
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'resend');
  const n = peer.cmds.length;
  await page.keyboard.press('Enter');
  await until(async () => peer.cmds.slice(n).some((c) => c.cmd === 'resend'), 3000, 'resend sent');
  const c = peer.cmds.slice(n).find((x) => x.cmd === 'resend');
  assert.deepEqual([c.conv, c.seq], [1, Number(await last.getAttribute('data-seq'))]);
}

test('a failed and a doubtful delivery explained in English, raw text behind Details', async () => {
  const { page, peer, L } = await setup('en', { convs: [conv(1)] });
  await waitText(page, '#pane-title', conv(1).number);
  for (const [status, raw] of [['unknown', 'smpp: delivery unknown: link lost with submit_sm in flight'],
    ['failed', 'kannel: delivery report 16: NACK/0x0000000B/Invalid Destination Address']]) {
    await page.fill('#composer-text', `Reply that will be ${status}`);
    await page.keyboard.press('Enter');
    await page.locator('.msg-out .status-queued').last().waitFor();
    peer.send({ type: 'delivery', conv: 1, seq: peer.lastSent, status, error: raw });
    await page.locator(`.msg-out >> nth=-1 >> .status-${status}`).waitFor();
    await deliveryExplained(page, L, status, raw);
    await resendByKeyboard(page, peer);
  }
  // the earlier (unknown) bubble keeps its own explanation
  assert.equal(await page.locator('.msg-out .delivery-why').count(), 2);
  // delivered after all (a late report): the explanation goes away
  peer.send({ type: 'delivery', conv: 1, seq: peer.lastSent - 1, status: 'delivered', error: '' });
  await until(async () => (await page.locator('.msg-out .delivery-why').count()) === 1, 3000, 'note removed');
  await shot(page, 'en-22-delivery-failed-details');
  // at phone width the explanation, the button and Details fit the bubble
  await page.setViewportSize({ width: 390, height: 844 });
  const last = page.locator('.msg-out >> nth=-1');
  await page.locator('#task-list').or(page.locator('#pane-body')).first().waitFor();
  if (await visible(page, '#task-list')) await page.click('#task-1'); // narrow: the list first
  await last.scrollIntoViewIfNeeded();
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), true, 'no sideways scroll');
  const [bubble, note] = await Promise.all([last.locator('.bubble').boundingBox(), last.locator('.delivery-note').boundingBox()]);
  assert.ok(note.x >= bubble.x && note.x + note.width <= bubble.x + bubble.width + 0.5, 'the note stays inside its bubble');
  await shot(page, 'en-22-delivery-failed-phone');
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

// An illegal transition the server refuses (End of a conversation another
// agent owns, a transfer whose target went away, a resend of something
// delivered after all, a code this desktop does not know) reads in the
// agent's language with what to do: err_CODE, else err_unknown naming the
// code; never the server's English message, null or a key.
for (const lang of ['sv', 'en']) {
  test(`refused commands read in the agent's language (${lang})`, async () => {
    const { page, peer, L } = await setup(lang, { convs: [conv(1)] });
    await waitText(page, '#pane-title', conv(1).number);
    peer.refuse = { end: 'not_owner' };
    await page.click('#btn-end');
    await waitText(page, '#error-text', L('err_not_owner'));
    await shot(page, `${lang}-23-refused-end`);
    peer.refuse = { end: 'wrapup_later_maybe' };
    await page.click('#btn-end');
    await waitText(page, '#error-text', L('err_unknown', { code: 'wrapup_later_maybe' }));
    // switching the language words what is on screen anew (before, the
    // banner and a dialog's error stayed in the language they were said in)
    const other = lang === 'sv' ? 'en' : 'sv';
    const O = strings(other);
    await page.click(`.top .lang-btn[data-lang="${other}"]`);
    await waitText(page, '#error-text', O('err_unknown', { code: 'wrapup_later_maybe' }));
    await page.click(`.top .lang-btn[data-lang="${lang}"]`);
    await waitText(page, '#error-text', L('err_unknown', { code: 'wrapup_later_maybe' }));
    peer.refuse = { transfer: 'target_unavailable' };
    await page.click('#btn-transfer');
    await page.locator('#dlg-transfer[open]').waitFor();
    await page.locator('#transfer-list .pick').first().waitFor();
    await page.locator('#transfer-list input').first().check();
    await page.click('#transfer-ok');
    await waitText(page, '#transfer-error', L('err_target_unavailable'));
    await shot(page, `${lang}-24-refused-transfer`);
    // the language buttons are behind the modal dialog: the same switch
    await page.evaluate((l) => import('/js/i18n.js').then((m) => m.setLang(l)), other);
    await waitText(page, '#transfer-error', O('err_target_unavailable'));
    await page.evaluate((l) => import('/js/i18n.js').then((m) => m.setLang(l)), lang);
    await waitText(page, '#transfer-error', L('err_target_unavailable'));
    const body = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(body, /SERVER ENGLISH|err_|undefined|null/);
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });
}

test('200 conversations and a 2,000-message transcript without jank (1920x1080)', async () => {
  const convs = [];
  for (let id = 1; id <= 200; id++) convs.push(conv(id));
  const t0 = Date.now();
  const { page, peer } = await setup('sv', { convs, sizes: { 200: 2000 }, viewport: { width: 1920, height: 1080 } });
  await until(async () => (await page.locator('.task').count()) === 200, 10000, '200 rows');
  const listMs = Date.now() - t0;
  // open the long conversation: time from click to 2,000 bubbles on screen
  // (the newest messages first, older ones prepended frame by frame)
  const open = await page.evaluate(async () => {
    let longest = 0;
    const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) longest = Math.max(longest, e.duration); });
    obs.observe({ type: 'longtask', buffered: false });
    const start = performance.now();
    document.getElementById('task-200').click();
    let first = 0, firstCount = 0, frames = 0;
    for (;;) {
      await new Promise((r) => requestAnimationFrame(r));
      frames++;
      const n = document.querySelectorAll('#transcript .msg').length;
      if (!first && n > 0) { first = performance.now() - start; firstCount = n; }
      if (n === 2000) break;
    }
    const all = performance.now() - start;
    await new Promise((r) => setTimeout(r, 100));
    obs.disconnect();
    const box = document.getElementById('transcript');
    return { first, firstCount, frames, all, longest, bottom: box.scrollHeight - box.scrollTop - box.clientHeight };
  });
  const openMs = open.all;
  // the longest main-thread task while 100 messages arrive one after another
  const box = page.locator('#transcript');
  await page.evaluate(() => {
    window.longest = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longest = Math.max(window.longest, e.duration); })
      .observe({ type: 'longtask', buffered: false });
  });
  const before = await box.evaluate((e) => e.scrollHeight - e.scrollTop - e.clientHeight);
  for (let i = 0; i < 100; i++)
    peer.send({ type: 'message', conv: (i % 2) ? 200 : 1 + (i % 199), message: { seq: 500000 + i, dir: 'in', text: `Ny ${i}`, agent: 0, agent_name: '', at: Date.now(), status: 'received' } });
  await until(async () => (await page.locator('#transcript .msg').count()) === 2050, 10000, 'appended');
  const after = await box.evaluate((e) => e.scrollHeight - e.scrollTop - e.clientHeight);
  const longest = await page.evaluate(() => window.longest);
  // scrolled up, a new message must not move what the agent reads
  // (measured once the scroll has painted: the bubbles it brings near the
  // view lay out their real heights in the next frames, content-visibility)
  await box.evaluate((e) => new Promise((r) => { e.scrollTop = 2000; requestAnimationFrame(() => requestAnimationFrame(r)); }));
  const anchor = await page.locator('#transcript .msg').nth(60).boundingBox();
  peer.send({ type: 'message', conv: 200, message: { seq: 600000, dir: 'in', text: 'Ännu en', agent: 0, agent_name: '', at: Date.now(), status: 'received' } });
  await until(async () => (await page.locator('#transcript .msg').count()) === 2051, 5000, 'one more');
  const anchor2 = await page.locator('#transcript .msg').nth(60).boundingBox();
  await shot(page, 'sv-23-volume-1920');
  console.log(`# 200 rows in ${listMs} ms; 2,000-message transcript: first paint ${open.first.toFixed(0)} ms (${open.firstCount} messages), ${open.frames} frames, all ${openMs.toFixed(0)} ms, longest task ${open.longest.toFixed(0)} ms; longest task during 100 events ${longest.toFixed(0)} ms`);
  // Timings vary with the machine's load (the figures above are printed for
  // a person to read); what must hold on any machine is the structure: the
  // newest messages paint first and the rest follow over several frames,
  // never in one long task that freezes the desk. The time bounds only
  // catch a frozen desk: a quiet machine shows a tenth of them, one at
  // load 14 on 2 cores (parallel ctest and helpers) came within half.
  assert.ok(open.firstCount < 2000, `the first frame already held all ${open.firstCount} messages`);
  assert.ok(open.frames >= 3, `filled in ${open.frames} frames`);
  assert.ok(openMs < 30000, `transcript took ${openMs} ms`);
  assert.ok(open.first < 5000, `first paint took ${open.first} ms`);
  assert.ok(open.longest < 3000, `a ${open.longest} ms task while opening`);
  assert.ok(open.bottom < 80, `opened at the newest message (${open.bottom})`);
  assert.ok(longest < 3000, `long task ${longest} ms`);
  assert.ok(before < 80 && after < 80, `stays at the bottom when it was there (${before}, ${after})`);
  assert.equal(anchor2.y, anchor.y, 'no jump while reading older messages');
  // unread counts on other rows
  assert.ok(Number(await text(page, '#task-3 .badge')) >= 1);
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

// Times, in the page, each new message of a 2,000-message conversation
// from its WebSocket frame to the first frame painted with its bubble: the
// desk's onmessage handler is wrapped (the WebSocket's onmessage setter,
// replaced before the desk connects) to note the arrival and the handler's
// own time (frame -> bubble in the DOM); a requestAnimationFrame then a
// task after it is when the frame holding the bubble has been produced.
function frameTimer() {
  window.lat = [];
  let p = window.WebSocket.prototype, d;
  while (p && !(d = Object.getOwnPropertyDescriptor(p, 'onmessage'))) p = Object.getPrototypeOf(p);
  const wrap = (f) => function (e) {
    const t0 = performance.now();
    f.call(this, e);
    const handled = performance.now() - t0;
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    if (m.type !== 'message' || !/^Mät /.test(m.message?.text || '')) return;
    const seq = m.message.seq;
    requestAnimationFrame(() => {
      const raf = performance.now() - t0;
      setTimeout(() => {
        window.lat.push({ seq, handled, raf, painted: performance.now() - t0, shown: !!document.querySelector(`#transcript li[data-seq="${seq}"]`) });
      }, 0);
    });
  };
  Object.defineProperty(window.WebSocket.prototype, 'onmessage', {
    configurable: true, get() { return d.get.call(this); }, set(f) { d.set.call(this, f && wrap(f)); },
  });
}

// N new messages to conversation 'id' (shown), one after another: the
// in-page figures of each (frameTimer), sorted: p(k, q) is quantile q of k.
async function timeMessages(page, peer, id, N, base) {
  await page.evaluate(() => { window.lat = []; });
  for (let i = 0; i < N; i++) {
    peer.send({ type: 'message', conv: id, message: { seq: base + i, dir: i % 2 ? 'out' : 'in', text: `Mät ${i}: ett nytt meddelande`, agent: i % 2, agent_name: i % 2 ? 'Anna Berg' : '', at: Date.now(), status: i % 2 ? 'queued' : 'received' } });
    await page.waitForFunction((n) => window.lat.length === n, i + 1, { timeout: 10000 });
  }
  const lat = await page.evaluate(() => window.lat);
  assert.ok(lat.every((x) => x.shown), 'every bubble was in the frame timed');
  return (k, q) => { const v = lat.map((x) => x[k]).sort((a, b) => a - b); return v[Math.min(v.length - 1, Math.floor(q * v.length))]; };
}

test('a new message in a 2,000-message conversation: WebSocket frame to bubble on screen', async () => {
  const { page, peer } = await setup('sv', { convs: [conv(1), conv(2)], sizes: { 1: 2000, 2: 20 }, viewport: { width: 1280, height: 720 }, before: frameTimer });
  const box = page.locator('#transcript');
  // the baseline, in the same run: a 20-message conversation
  await page.click('#task-2');
  await until(async () => (await page.locator('#transcript .msg').count()) === 20, 10000, '20 bubbles');
  await page.waitForTimeout(300);
  const short = await timeMessages(page, peer, 2, 30, 800000);
  await page.click('#task-1');
  await until(async () => (await page.locator('#transcript .msg').count()) === 2000, 30000, '2,000 bubbles');
  await page.waitForTimeout(300);
  const long = await timeMessages(page, peer, 1, 40, 700000);
  // p50 and max; the ratio is against the short conversation's p50 in this
  // run (a frame's wait and the page's fixed costs are in both)
  console.log(`desktop_msg_frame_to_paint_20_p50: ${short('painted', 0.5).toFixed(1)} ms`);
  console.log(`desktop_msg_frame_to_paint_2000_p50: ${long('painted', 0.5).toFixed(1)} ms`);
  console.log(`desktop_msg_frame_to_paint_2000_max: ${long('painted', 1).toFixed(1)} ms`);
  console.log(`desktop_msg_frame_to_paint_2000_vs_20: ${(long('painted', 0.5) / short('painted', 0.5)).toFixed(2)} x`);
  console.log(`desktop_msg_raf_20_p50: ${short('raf', 0.5).toFixed(1)} ms`);
  console.log(`desktop_msg_raf_2000_p50: ${long('raf', 0.5).toFixed(1)} ms`);
  console.log(`desktop_msg_handler_20_p50: ${short('handled', 0.5).toFixed(1)} ms`);
  console.log(`desktop_msg_handler_2000_p50: ${long('handled', 0.5).toFixed(1)} ms`);
  console.log(`desktop_msg_handler_2000_max: ${long('handled', 1).toFixed(1)} ms`);
  // at the bottom it stays there; the bound only catches a desk that
  // stalls (each message took 100-600 ms here before off-screen bubbles
  // were skipped: a quiet machine now shows about 35 ms, most of it the
  // frame's own wait)
  assert.ok(await box.evaluate((e) => e.scrollHeight - e.scrollTop - e.clientHeight < 80), 'stays at the newest message');
  assert.ok(long('painted', 0.5) < 1000, `median ${long('painted', 0.5)} ms from frame to bubble`);
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

// The work the page does, counted by Chromium itself (its trace: elements
// whose style was recomputed, layout objects laid out, and the main
// thread's busy time), for what the agent does with an open conversation:
// a new message arriving (with its delivery report), scrolling, and a
// second of the timers' tick. Measured in a 2,000-message and a
// 20-message conversation in the same run: the work must follow what
// changed, not the transcript's length. Element and object counts do not
// depend on the machine's load; times only in the ratios printed.
async function traceWork(page, cdp, act) {
  const events = [];
  const onData = (d) => events.push(...d.value);
  cdp.on('Tracing.dataCollected', onData);
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] }, transferMode: 'ReportEvents' });
  await act();
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.end');
  await done;
  cdp.off('Tracing.dataCollected', onData);
  const w = { style: 0, layout: 0, layouts: 0, busy: 0 };
  for (const e of events) {
    if (e.name === 'UpdateLayoutTree' && e.args?.elementCount) w.style += e.args.elementCount;
    if (e.name === 'Layout' && e.ph === 'X' && e.args?.beginData) { w.layout += e.args.beginData.dirtyObjects || 0; w.layouts++; }
    if (e.name === 'RunTask' && e.ph === 'X') w.busy += (e.dur || 0) / 1000;
  }
  return w;
}

// K new messages, each with its delivery report, one per frame, and wait
// until each is painted
async function newMessages(page, peer, id, K, base) {
  for (let i = 0; i < K; i++) {
    peer.send({ type: 'message', conv: id, message: { seq: base + i, dir: 'out', text: `Arbete ${i}`, agent: 1, agent_name: 'Anna Berg', at: Date.now(), status: 'queued' } });
    peer.send({ type: 'delivery', conv: id, seq: base + i, status: 'delivered', error: '' });
    await page.waitForFunction((s) => document.querySelector(`#transcript li[data-seq="${s}"] .status-delivered`), base + i, { timeout: 10000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
  }
}

// scroll up by 'step' px a frame for 'n' frames, then back down
const scrollFrames = (page, step, n) => page.evaluate(async ([step, n]) => {
  const box = document.getElementById('transcript');
  for (let i = 0; i < 2 * n; i++) {
    box.scrollTop += i < n ? -step : step;
    await new Promise((r) => requestAnimationFrame(r));
  }
}, [step, n]);

test('a new message, scrolling and the timers cost what changed, not the transcript\'s length (2,000 vs 20)', async () => {
  const { page, peer } = await setup('sv', { convs: [conv(1), conv(2)], sizes: { 1: 2000, 2: 20 }, viewport: { width: 1280, height: 720 } });
  const cdp = await page.context().newCDPSession(page);
  const measure = async (id, n, base) => {
    await page.click(`#task-${id}`);
    await until(async () => (await page.locator('#transcript .msg').count()) === n, 30000, `${n} bubbles`);
    await page.waitForTimeout(500);
    const msg = await traceWork(page, cdp, () => newMessages(page, peer, id, 10, base));
    const scroll = await traceWork(page, cdp, () => scrollFrames(page, 25, 12));
    const tick = await traceWork(page, cdp, () => page.waitForTimeout(1100));
    // what the browser checks against the view every frame to decide what
    // it may skip (content-visibility: auto), and the most boxes one
    // layout walks in a row (the children of one box)
    const watched = await page.evaluate(() => [...document.querySelectorAll('#transcript, #transcript *')]
      .filter((e) => getComputedStyle(e).contentVisibility === 'auto').length);
    const widest = await page.evaluate(() => Math.max(...[...document.querySelectorAll('#transcript, #transcript *')].map((e) => e.childElementCount)));
    return { msg, scroll, tick, watched, widest };
  };
  const short = await measure(2, 20, 810000);
  const long = await measure(1, 2000, 710000);
  const r = (a, b) => (a / Math.max(b, 1)).toFixed(2);
  for (const k of ['msg', 'scroll', 'tick']) {
    console.log(`desktop_${k}_style_elements_20: ${short[k].style} elements`);
    console.log(`desktop_${k}_style_elements_2000: ${long[k].style} elements`);
    console.log(`desktop_${k}_layout_objects_20: ${short[k].layout} objects`);
    console.log(`desktop_${k}_layout_objects_2000: ${long[k].layout} objects`);
    console.log(`desktop_${k}_busy_2000_vs_20: ${r(long[k].busy, short[k].busy)} x (${long[k].busy.toFixed(1)} / ${short[k].busy.toFixed(1)} ms)`);
    console.log(`desktop_${k}_style_2000_vs_20: ${r(long[k].style, short[k].style)} x`);
    console.log(`desktop_${k}_layout_2000_vs_20: ${r(long[k].layout, short[k].layout)} x`);
  }
  console.log(`desktop_watched_per_frame_20: ${short.watched} elements`);
  console.log(`desktop_watched_per_frame_2000: ${long.watched} elements`);
  console.log(`desktop_widest_box_2000: ${long.widest} children`);
  // before: 2,000 bubbles watched every frame, a flex column of 2,000
  // laid out for each message (the layout's time 10x the short one's, the
  // main thread's 2.2x per message and 2.0x per scrolled frame)
  assert.ok(long.watched <= 2000 / 100 + 2, `${long.watched} elements watched every frame`);
  assert.ok(long.widest <= 100, `a box of ${long.widest} children`);
  assert.ok(long.msg.layout <= 1.5 * short.msg.layout + 200, `layout ${long.msg.layout} vs ${short.msg.layout} objects`);
  assert.ok(long.msg.style <= 1.5 * short.msg.style + 100, `style ${long.msg.style} vs ${short.msg.style} elements`);
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

// A message that arrives right after a transcript was read again (the
// resync after a reconnect) and before the next frame shows it: the whole
// read transcript is shown with it. (Before, the message took the read's
// version for the old list on screen, and the read was never shown.)
test('a message between a transcript read again and its render: all of it shown', async () => {
  const { page, peer } = await setup('sv', { convs: [conv(1)], sizes: { 1: 2 } });
  await until(async () => (await page.locator('#transcript .msg').count()) === 2, 10000, '2 bubbles');
  // offline, three more messages were stored; back online, one more comes
  peer.sizes[1] = 5;
  peer.afterMessages = (m) => {
    peer.afterMessages = null;
    peer.send({ type: 'message', conv: m.conv, message: { seq: 10006, dir: 'in', text: 'Kund meddelande 6 i konversation 1', agent: 0, agent_name: '', at: T0 + 1000 + 600, status: 'received' } });
  };
  await peer.ws.close();
  await until(async () => (await page.locator('#transcript .msg').count()) >= 3, 10000, 'after the reconnect');
  await page.waitForTimeout(500);
  assert.deepEqual(await page.locator('#transcript .msg .text').allTextContents(),
    [1, 2, 3, 4, 5].map((i) => `${i % 2 ? 'Kund' : 'Agent'} meddelande ${i} i konversation 1`).concat('Kund meddelande 6 i konversation 1'));
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('keyboard only, with names for every control (en)', async () => {
  const { page, peer, L } = await setup('en', { convs: [conv(1), conv(2), conv(3)] });
  await waitText(page, '#pane-title', conv(1).number);
  // every visible control has an accessible name
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, select, textarea, [role=option], [role=listbox], [role=toolbar]')]
    .filter((e) => e.offsetParent !== null)
    .filter((e) => !(e.getAttribute('aria-label') || e.labels?.[0]?.textContent.trim() || e.textContent.trim() || e.title || e.getAttribute('aria-labelledby')))
    .map((e) => e.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, []);
  // Alt+ArrowDown moves to the next conversation; focus lands in the composer
  await page.keyboard.press('Alt+ArrowDown');
  await waitText(page, '#pane-title', conv(2).number);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'composer-text');
  // the task list: arrows move, focus is visible
  await page.focus('#task-2');
  await page.keyboard.press('ArrowDown');
  await waitText(page, '#pane-title', conv(3).number);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'task-3');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Shift+Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, 'solid');
  await shot(page, 'en-24-keyboard-focus');
  // Alt+A accepts the first offer
  peer.upsert(conv(9, { state: 'offered', role: 'offered', owner: 0, owner_name: '' }));
  await page.locator('.offer').waitFor();
  await page.keyboard.press('Alt+a');
  await waitText(page, '#pane-title', conv(9).number);
  // Alt+N opens the outbound dialog; Escape closes it
  await page.keyboard.press('Alt+n');
  await page.locator('#dlg-outbound[open]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'outbound-number');
  await page.keyboard.press('Escape');
  await page.locator('#dlg-outbound').waitFor({ state: 'hidden' });
  // End and wrap-up by keyboard: search, ArrowDown into the list, Enter
  await page.focus('#btn-end');
  await page.keyboard.press('Enter');
  await page.locator('#dlg-wrapup[open]').waitFor();
  await page.keyboard.type('er');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.locator('#dlg-wrapup').waitFor({ state: 'hidden', timeout: 3000 }).catch(async (e) => {
    console.log(JSON.stringify(peer.cmds.slice(-5)), await page.evaluate(() => document.activeElement.outerHTML), await page.locator('#wrapup-error').textContent());
    throw e;
  });
  const w = peer.cmds.find((c) => c.cmd === 'wrapup');
  assert.equal(w.conv, 9);
  assert.equal(w.reason, 2); // "er": Återkommer and Felaktigt nummer match; the first is picked
  assert.equal(await text(page, '#btn-end'), L('end'));
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

// One layout from a phone to a wall screen: at each size the page never
// scrolls sideways, the offers band never covers the conversation's
// controls, dialogs fit, and below 900 px one column with a back control
// and the header's actions in a menu. Dark theme, 200% zoom (a 1280x720
// screen at 200% is a 640x360 CSS viewport) and reduced motion too. Every
// screenshot runs axe (lib/a11y.mjs).
const SIZES = [[390, 844], [768, 1024], [1024, 600], [1280, 720], [1366, 768], [1920, 1080], [360, 640]];

async function noSideScroll(page, what) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(w[0] <= w[1], `${what}: the page scrolls sideways (${w[0]} > ${w[1]})`);
}

function overlaps(a, b) {
  return a && b && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

for (const [w, h] of SIZES) {
  test(`layout at ${w}x${h}: no sideways scroll, offers beside the controls, dialogs fit`, async () => {
    const tag = `layout-${w}x${h}`;
    const { page, peer, L } = await setup('sv', { convs: [conv(1), conv(2)], viewport: { width: w, height: h } });
    const narrow = w < 900;
    await page.locator('#task-1').waitFor();
    if (narrow) {
      // the task list first; the header's actions behind the menu
      assert.equal(await visible(page, '#task-list'), true);
      assert.equal(await visible(page, '#pane-body'), false);
      assert.equal(await visible(page, '#logout'), false);
      await page.click('#menu-btn');
      assert.equal(await page.getAttribute('#menu-btn', 'aria-expanded'), 'true');
      assert.equal(await visible(page, '#logout'), true);
      await shot(page, `${tag}-1-menu`);
      await page.keyboard.press('Escape');
      assert.equal(await visible(page, '#logout'), false);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'menu-btn');
      await page.click('#task-1');
    }
    await waitText(page, '#pane-title', conv(1).number);
    for (let id = 11; id <= 12; id++) peer.upsert(conv(id, { state: 'offered', role: 'offered', owner: 0, owner_name: '' }));
    await page.locator('.offer').first().waitFor();
    await noSideScroll(page, tag);
    // the offers never cover the controls of the conversation in hand
    const band = await page.locator('#offers').boundingBox();
    for (const id of ['#btn-transfer', '#btn-conference', '#btn-end', '#composer-send']) {
      const b = await page.locator(id).boundingBox();
      assert.ok(b, `${tag}: ${id} is shown`);
      assert.ok(!overlaps(band, b), `${tag}: the offers cover ${id}`);
      assert.ok(b.x >= 0 && b.x + b.width <= w, `${tag}: ${id} is off-screen`);
    }
    assert.equal(await page.locator('.offer').count(), narrow ? 1 : 2);
    await shot(page, `${tag}-2-offers`);
    // a dialog fits the screen
    await page.click('#btn-transfer');
    await page.locator('#dlg-transfer[open]').waitFor();
    const d = await page.locator('#dlg-transfer').boundingBox();
    assert.ok(d.x >= 0 && d.y >= 0 && d.x + d.width <= w && d.y + d.height <= h, `${tag}: the dialog does not fit (${JSON.stringify(d)})`);
    await shot(page, `${tag}-3-dialog`);
    await page.keyboard.press('Escape');
    await until(async () => (await page.evaluate(() => document.activeElement.id)) === 'btn-transfer', 3000, 'focus back on Överför');
    if (narrow) {
      // details and back: each view has its way back
      await page.click('#btn-details');
      assert.equal(await visible(page, '#vars'), true);
      assert.equal(await visible(page, '#pane-body'), false);
      await shot(page, `${tag}-4-details`);
      await page.click('#btn-side-back');
      assert.equal(await visible(page, '#pane-body'), true);
      await page.click('#btn-back');
      assert.equal(await visible(page, '#task-list'), true);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'task-1');
      await noSideScroll(page, `${tag} tasks`);
    }
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });
}

test('dark theme, 200% zoom and reduced motion', async () => {
  for (const [name, viewport, ctx] of [
    ['dark-1366x768', { width: 1366, height: 768 }, { colorScheme: 'dark' }],
    ['dark-390x844', { width: 390, height: 844 }, { colorScheme: 'dark' }],
    ['zoom200-1280x720', { width: 640, height: 360 }, { deviceScaleFactor: 2, reducedMotion: 'reduce' }],
  ]) {
    const page = await agentPage(setup.browser || (await setup('sv', { convs: [] }), setup.browser), setup.server.url, { viewport, ctx });
    const peer = new Peer(page, { convs: [conv(1), conv(2, { role: 'wrapup', state: 'wrapup', wrapup_due: true })] });
    await peer.route();
    await login(page, 'anna', 'demo-anna');
    if (viewport.width < 900) await page.click('#task-1');
    await waitText(page, '#pane-title', conv(1).number);
    peer.upsert(conv(11, { state: 'offered', role: 'offered', owner: 0, owner_name: '' }));
    await page.locator('.offer').waitFor();
    await page.fill('#composer-text', 'Hej');
    await noSideScroll(page, name);
    if (ctx.colorScheme === 'dark') assert.notEqual(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(244, 246, 248)');
    if (ctx.reducedMotion) {
      const moving = await page.evaluate(() => [...document.querySelectorAll('*')].filter((e) => {
        const s = getComputedStyle(e);
        return s.animationName !== 'none' || (parseFloat(s.transitionDuration) || 0) > 0;
      }).length);
      assert.equal(moving, 0, 'nothing moves with reduced motion');
      // at 200% every control of the conversation can still be reached
      for (const id of ['#btn-end', '#composer-send']) {
        await page.locator(id).scrollIntoViewIfNeeded();
        assert.equal(await page.locator(id).isVisible(), true, id);
      }
    }
    await shot(page, `${name}-1-conversation`);
    await page.locator('.offer .accept').waitFor();
    await page.click('#btn-end');
    await page.locator('#dlg-wrapup[open]').waitFor();
    await shot(page, `${name}-2-wrapup`);
    assert.deepEqual(problems(page), []);
    await page.context().close();
  }
});
