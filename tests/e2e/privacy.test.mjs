// Retention and erasure against the real binary (docs/privacy.md): the
// daily job deletes the text of conversations that ended more than N days
// ago (the site's days, an entry point's own), the reports of those days
// stay the same; an administrator exports everything about one customer
// number and then erases it: gone from the store (the SQLite file and a
// backup made afterwards, byte for byte), from the API, recorded in the
// audit trail without the number; the server still starts on that log.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, bin } from './lib/server.mjs';
import { Desk, login, simSend, until } from './lib/client.mjs';
import { configFile } from './lib/desk.mjs';
import { storeQuery } from './lib/pg.mjs';

const EP = '+46700000001';
const EP2 = '71000';
const DAY = 86400000;
const cleanups = [];
after(() => cleanups.forEach((f) => f()));

function site() {
  const cfg = configFile({ admins: [{ username: 'admin', password: 'demo-admin' }] });
  const s = new Server({ args: ['--config', cfg] });
  cleanups.push(() => s.cleanup());
  return s;
}

async function call(s, method, p, { cookie, body } = {}) {
  const h = {};
  if (cookie) h.cookie = cookie;
  if (body !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(`${s.url}${p}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

async function conversation(s, anna, number, ep, texts, { end = true } = {}) {
  await simSend(s.url, number, ep, texts[0]);
  const offer = await anna.offer(10000);
  assert.equal((await anna.cmd('accept', { conv: offer.id })).ok, true);
  for (const t of texts.slice(1)) await anna.reply(offer.id, t);
  if (end) {
    assert.equal((await anna.cmd('end', { conv: offer.id })).ok, true);
    assert.equal((await anna.cmd('wrapup', { conv: offer.id, reason: 1 })).ok, true);
  }
  return offer.id;
}

// Every byte of the SQLite store's files (the database and its WAL).
function storeBytes(s) {
  return readdirSync(s.dataDir).filter((f) => f.startsWith('textdesk.db'))
    .map((f) => readFileSync(path.join(s.dataDir, f))).reduce((a, b) => Buffer.concat([a, b]), Buffer.alloc(0));
}

const figures = async (s, cookie, t0, t1) =>
  (await call(s, 'GET', `/api/reports/figures?from=${t0}&to=${t1}&step=all&tz=Europe/Stockholm`, { cookie })).json;

test('retention: texts of conversations ended more than N days ago are deleted in batches, per entry point; the reports of those days are unchanged', async () => {
  const s = site();
  await s.start();
  const t0 = Date.now() - 60000;
  let admin = (await login(s.url, 'admin', 'demo-admin')).cookie;
  let anna = await Desk.open(s.url, 'anna', 'demo-anna');
  assert.equal((await anna.cmd('set_state', { state: 'available' })).ok, true);
  const old = [];
  for (let i = 0; i < 3; i++)
    old.push(await conversation(s, anna, `+4670100000${i}`, EP, [`Gammal fråga nummer ${i} zebra`, `Gammalt svar ${i} med åäö – lite längre text som ändå är ett segment zebra`]));
  const own = await conversation(s, anna, '+46701000009', EP2, ['Sälj vill spara detta zebra', 'Svar från sälj zebra']);
  await simSend(s.url, '+46701000007', '+4699999999', 'Till fel nummer zebra'); // refused, kept
  assert.equal(storeQuery(s, `SELECT count(*) FROM inbound_orphans WHERE text LIKE 'Till fel%'`)[0], '1');
  await new Promise((res) => setTimeout(res, 20));
  const t1 = Date.now() - 10; // a closed range: ongoing states do not grow in it
  const before = await figures(s, admin, t0, t1);
  assert.ok(before.rows.length > 0);
  const segs = before.rows.find((r) => r.dimension === 'total');
  assert.ok(segs.sms_segments >= 4, JSON.stringify(segs));

  // bad policies change nothing
  for (const body of [{}, { days: -1 }, { days: 4000 }, { days: 30, entry_points: { 99: 10 } }, { days: 30, entry_points: { 2: 'x' } }, { days: 30, extra: 1 }]) {
    const r = await call(s, 'PUT', '/api/admin/retention', { cookie: admin, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error, 'bad_retention');
  }
  assert.equal((await call(s, 'PUT', '/api/admin/retention', { cookie: (await login(s.url, 'anna', 'demo-anna')).cookie, body: { days: 1 } })).status, 403);
  let r = await call(s, 'PUT', '/api/admin/retention', { cookie: admin, body: { days: 30, entry_points: { 2: 365 } } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.days, r.json.entry_points], [30, { 2: 365 }]);
  anna.close();
  assert.equal((await s.stop()).code, 0, s.output);

  // 31 days later: a new conversation ends now
  s.env = { TEXTDESK_CLOCK_OFFSET_MS: String(31 * DAY) };
  await s.start();
  admin = (await login(s.url, 'admin', 'demo-admin')).cookie;
  anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  const fresh = await conversation(s, anna, '+46701000008', EP, ['Ny fråga zebra', 'Nytt svar zebra']);
  assert.equal((await call(s, 'POST', '/api/admin/retention/run', { cookie: admin })).status, 202);
  await until(async () => (await call(s, 'GET', '/api/admin/retention', { cookie: admin })).json.last_run, 20000);
  const last = (await call(s, 'GET', '/api/admin/retention', { cookie: admin })).json.last_run;
  assert.equal(last.ok, true);
  assert.equal(last.conversations, 3);
  assert.equal(last.messages, 6);
  assert.equal(last.refused_sms, 1);
  assert.equal(storeQuery(s, `SELECT count(*) FROM inbound_orphans WHERE text IS NOT NULL`)[0], '0');
  // gone through the API: the customer's data export, the agent's transcript
  for (let i = 0; i < 3; i++) {
    const ex = (await call(s, 'GET', `/api/admin/customers/export?number=%2B4670100000${i}`, { cookie: admin })).json;
    assert.equal(ex.conversations.length, 1);
    assert.deepEqual(ex.conversations[0].messages.map((m) => m.text), [null, null]);
    assert.equal(ex.conversations[0].messages[1].status, 'delivered');
  }
  const kept = (await call(s, 'GET', '/api/admin/customers/export?number=%2B46701000009', { cookie: admin })).json;
  assert.deepEqual(kept.conversations[0].messages.map((m) => m.text), ['Sälj vill spara detta zebra', 'Svar från sälj zebra']);
  const kept2 = (await call(s, 'GET', '/api/admin/customers/export?number=%2B46701000008', { cookie: admin })).json;
  assert.equal(kept2.conversations[0].messages[0].text, 'Ny fråga zebra');
  // gone from the store
  assert.equal(storeQuery(s, `SELECT count(*) FROM messages WHERE text LIKE 'Gammal%'`)[0], '0');
  assert.equal(storeQuery(s, `SELECT count(*) FROM messages WHERE conv IN (${old.join(',')}) AND text IS NULL`)[0], '6');
  if (!s.storeUrl) {
    execFileSync('sqlite3', [path.join(s.dataDir, 'textdesk.db'), 'PRAGMA wal_checkpoint(TRUNCATE)']);
    const bytes = storeBytes(s);
    assert.equal(bytes.indexOf('Gammal fråga'), -1, 'deleted text in the SQLite file');
    assert.equal(bytes.indexOf('Gammalt svar'), -1, 'deleted text in the SQLite file');
    assert.notEqual(bytes.indexOf('Sälj vill spara'), -1, 'kept text is in the file');
  }
  // the reports of that day: the same, SMS segments included
  assert.deepEqual(await figures(s, admin, t0, t1), before);
  // a second run finds nothing more (its cursors moved on)
  await call(s, 'POST', '/api/admin/retention/run', { cookie: admin });
  await until(async () => (await call(s, 'GET', '/api/admin/retention', { cookie: admin })).json.last_run.started_at > last.started_at, 20000);
  assert.equal((await call(s, 'GET', '/api/admin/retention', { cookie: admin })).json.last_run.conversations, 0);
  assert.ok(fresh > own);
  anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('erasure: everything about one number exported, then erased from store, API and later backups, audited without the number; reports unchanged; the log still replays', async () => {
  const s = site();
  await s.start();
  const X = '+46709876543';
  const t0 = Date.now() - 60000;
  const admin = (await login(s.url, 'admin', 'demo-admin')).cookie;
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  assert.equal((await anna.cmd('set_state', { state: 'available' })).ok, true);
  const a1 = await conversation(s, anna, X, EP, ['Mitt namn är Kalle Svensson, kundnummer 555', 'Hej Kalle, tack!'], { end: false });
  assert.equal((await anna.cmd('set_variable', { conv: a1, key: 'kund', value: 'Kalle Svensson 555' })).ok, true);
  assert.equal((await anna.cmd('end', { conv: a1 })).ok, true);
  assert.equal((await anna.cmd('wrapup', { conv: a1, reason: 1 })).ok, true);
  const y = await conversation(s, anna, '+46701112233', EP, ['Annan kund här', 'Svar till annan kund']);
  const a2 = await conversation(s, anna, X, EP, ['Kalle igen, adress Storgatan 7'], { end: false });
  await new Promise((res) => setTimeout(res, 20));
  const t1 = Date.now() - 10; // a closed range: ongoing states do not grow in it
  const before = await figures(s, admin, t0, t1);

  // export first: both conversations, every text, oldest first
  let r = await call(s, 'GET', `/api/admin/customers/export?number=${encodeURIComponent(X)}`, { cookie: admin });
  assert.equal(r.status, 200);
  assert.equal(r.json.number, X);
  assert.deepEqual(r.json.conversations.map((c) => c.id), [a1, a2]);
  assert.deepEqual(r.json.conversations[0].messages.map((m) => [m.dir, m.text]),
    [['in', 'Mitt namn är Kalle Svensson, kundnummer 555'], ['out', 'Hej Kalle, tack!']]);
  assert.equal(r.json.conversations[1].closed_at, null);
  // bad input, and an open conversation, change nothing
  assert.equal((await call(s, 'GET', '/api/admin/customers/export', { cookie: admin })).json.error, 'bad_number');
  for (const body of [{}, { number: '' }, { number: 'a b' }, { number: X, x: 1 }]) {
    r = await call(s, 'POST', '/api/admin/customers/erase', { cookie: admin, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error, 'bad_number');
  }
  r = await call(s, 'POST', '/api/admin/customers/erase', { cookie: admin, body: { number: X } });
  assert.equal(r.status, 409);
  assert.equal(r.json.error, 'conversation_open');
  assert.match(r.json.message, /end it/);
  assert.equal((await call(s, 'POST', '/api/admin/customers/erase', { cookie: (await login(s.url, 'anna', 'demo-anna')).cookie, body: { number: X } })).status, 403);
  assert.equal(storeQuery(s, `SELECT count(*) FROM messages WHERE text IS NULL`)[0], '0');

  // ended: erased
  assert.equal((await anna.cmd('end', { conv: a2 })).ok, true);
  assert.equal((await anna.cmd('wrapup', { conv: a2, reason: 1 })).ok, true);
  r = await call(s, 'POST', '/api/admin/customers/erase', { cookie: admin, body: { number: X } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { conversations: 2, messages: 3 });

  // from the API
  r = await call(s, 'GET', `/api/admin/customers/export?number=${encodeURIComponent(X)}`, { cookie: admin });
  assert.deepEqual(r.json.conversations, []);
  const hist = await anna.cmd('messages', { conv: a1 });
  assert.ok(!JSON.stringify(hist).includes('Kalle'), JSON.stringify(hist));
  // the other customer keeps everything
  r = await call(s, 'GET', '/api/admin/customers/export?number=%2B46701112233', { cookie: admin });
  assert.deepEqual(r.json.conversations[0].messages.map((m) => m.text), ['Annan kund här', 'Svar till annan kund']);
  assert.equal(y, r.json.conversations[0].id);
  // audited, without the number or the text
  const audit = (await call(s, 'GET', '/api/admin/audit?limit=20', { cookie: admin })).json.entries;
  const er = audit.find((e) => e.action === 'erase customer data');
  assert.ok(er, JSON.stringify(audit));
  assert.equal(er.actor, 'admin');
  assert.equal(er.target, '2 conversations, 3 messages');
  assert.ok(audit.some((e) => e.action === 'export customer data'));
  assert.ok(!JSON.stringify(audit).includes('9876543'), 'the number is not in the audit trail');
  // from the store
  assert.equal(storeQuery(s, `SELECT count(*) FROM events WHERE number = '${X}'`)[0], '0');
  assert.equal(storeQuery(s, `SELECT count(*) FROM messages WHERE number = '${X}' OR text LIKE '%Kalle%'`)[0], '0');
  assert.equal(storeQuery(s, `SELECT count(*) FROM events WHERE value LIKE '%Kalle%' OR text LIKE '%Kalle%'`)[0], '0');
  if (!s.storeUrl) {
    const bytes = storeBytes(s);
    for (const secret of ['9876543', 'Kalle', 'Storgatan']) assert.equal(bytes.indexOf(secret), -1, `${secret} in the SQLite files`);
    // a backup made afterwards has none of it either
    const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-bk-'));
    execFileSync(bin, ['backup', '--data', s.dataDir, path.join(dir, 'b.db')], { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
    const bk = readFileSync(path.join(dir, 'b.db'));
    for (const secret of ['9876543', 'Kalle', 'Storgatan']) assert.equal(bk.indexOf(secret), -1, `${secret} in the backup`);
    assert.notEqual(bk.indexOf('Annan kund'), -1);
  }
  // the reports of that day are the same
  assert.deepEqual(await figures(s, admin, t0, t1), before);
  // the log still replays: a restart, the same figures
  anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
  await s.start();
  const admin2 = (await login(s.url, 'admin', 'demo-admin')).cookie;
  assert.deepEqual(await figures(s, admin2, t0, t1), before);
  // the number may write again: a new conversation
  const anna2 = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna2.cmd('set_state', { state: 'available' });
  await simSend(s.url, X, EP, 'Ny start');
  const offer = await anna2.offer(10000);
  assert.equal(offer.number, X);
  anna2.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

// the page is the same on either store: on SQLite only (make test's time)
test('admin page: the retention policy, an export downloaded and an erasure confirmed, by keyboard (sv, en, phone)', { skip: process.env.TEXTDESK_E2E_STORE === 'postgresql' && 'the page is the same on either store' }, async () => {
  const { readFileSync: rf } = await import('node:fs');
  const { webDir } = await import('./lib/server.mjs');
  const { launch, agentPage, shot } = await import('./lib/browser.mjs');
  const { checkScreen } = await import('./lib/a11y.mjs');
  const { waitText } = await import('./lib/desk.mjs');
  const A = JSON.parse(rf(path.join(webDir, 'admin', 'i18n', 'sv.json'), 'utf8'));
  const E = JSON.parse(rf(path.join(webDir, 'admin', 'i18n', 'en.json'), 'utf8'));
  const s = site();
  await s.start();
  const browser = await launch();
  cleanups.push(() => browser.close());
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  const X = '+46702223344';
  const open = await conversation(s, anna, X, EP, ['Hej, erasa mig', 'Visst'], { end: false });

  const page = await agentPage(browser, `${s.url}/admin/`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-user', 'admin');
  await page.fill('#login-pass', 'demo-admin');
  await page.click('#login-submit');
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.click('.tab[data-kind="privacy"]');
  await page.locator('#privacy').waitFor({ state: 'visible' });
  await waitText(page, '#ret-last', A.ret_never);
  // the policy: 30 days, the second entry point a year
  await page.fill('#ret-days', '30');
  await page.fill('#ret-eps input[data-ep="2"]', '365');
  await page.click('#ret-save');
  await waitText(page, '#ret-status', A.ret_saved);
  const admin = (await login(s.url, 'admin', 'demo-admin')).cookie;
  const pol = (await call(s, 'GET', '/api/admin/retention', { cookie: admin })).json;
  assert.deepEqual([pol.days, pol.entry_points], [30, { 2: 365 }]);
  await page.fill('#ret-days', '-3');
  await page.click('#ret-save');
  await waitText(page, '#ret-error', A.err_bad_retention);
  await page.click('#ret-run');
  await page.locator('#ret-last:has-text("0")').waitFor();
  // export: a JSON file with the conversation; the number written as
  // people do (blanks, a dash) is the same number (util.js phoneNumber)
  await page.fill('#er-number', '+46 70-222 33 44');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#er-export')]);
  const file = JSON.parse(rf(await download.path(), 'utf8'));
  assert.equal(file.number, X);
  assert.equal(file.conversations[0].messages[0].text, 'Hej, erasa mig');
  // erasure while open: the API's refusal on screen; then ended: erased
  await page.click('#er-erase');
  await page.locator('#er-confirm').waitFor({ state: 'visible' });
  assert.equal(await page.textContent('#er-confirm-text'), A.er_confirm.replace('{number}', X));
  await page.click('#er-confirm-yes');
  await waitText(page, '#er-error', A.err_conversation_open);
  await page.locator('#privacy #ret-title').scrollIntoViewIfNeeded();
  await checkScreen(page, 'admin privacy (sv)');
  await shot(page, 'admin-privacy-sv');
  assert.equal((await anna.cmd('end', { conv: open })).ok, true);
  assert.equal((await anna.cmd('wrapup', { conv: open, reason: 1 })).ok, true);
  await page.click('#app .lang-btn[data-lang="en"]');
  await waitText(page, '#er-title', E.er_title);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.focus('#er-erase');
  await page.keyboard.press('Enter');
  await page.locator('#er-confirm').waitFor({ state: 'visible' });
  await page.locator('#er-confirm').scrollIntoViewIfNeeded();
  await checkScreen(page, 'admin privacy erase (en, phone)');
  await shot(page, 'admin-privacy-en-phone');
  await page.focus('#er-confirm-yes');
  await page.keyboard.press('Enter');
  await waitText(page, '#er-status', E.er_erased.replace('{c}', '1').replace('{m}', '2'));
  const after = (await call(s, 'GET', `/api/admin/customers/export?number=${encodeURIComponent(X)}`, { cookie: admin })).json;
  assert.deepEqual(after.conversations, []);
  assert.doesNotMatch(await page.textContent('#privacy'), /undefined|null|ret_|er_/);
  assert.deepEqual(page.problems.filter((p) => !/status of 4\d\d/.test(p)), []);
  anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
