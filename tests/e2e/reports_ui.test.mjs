// The reports page (/reports/) in Debian's Chromium over a seeded day: the
// server runs six times with its clock set to 08:00, 09:30, 11:00, 13:00,
// 14:30 and 16:00 (Europe/Stockholm) of yesterday; each time customers
// text, agents answer (some slower than the 2 s service-level threshold),
// reply, end and wrap up, and Maja takes lunch. Then, the next morning,
// Lena opens the reports: charts drawn by Chart.js (served from Debian's
// libjs-chart.js, no CSP violation), tables under them, CSV download, in
// Swedish and English; screenshots in test-output/screens/reports-*.png.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, webDir } from './lib/server.mjs';
import { Desk, login as apiLogin, simSend } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { configFile, waitText } from './lib/desk.mjs';

const EP = '+46700000001';
const V = JSON.parse(readFileSync(path.join(webDir, 'reports', 'i18n', 'sv.json'), 'utf8'));
const VE = JSON.parse(readFileSync(path.join(webDir, 'reports', 'i18n', 'en.json'), 'utf8'));
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Yesterday in Stockholm (CET in December, +01:00), as YYYY-MM-DD, and the
// UTC ms of a local hh:mm on it.
const yesterday = new Date(Date.now() + 3600000 - 86400000).toISOString().slice(0, 10);
const at = (day, hh, mm = 0) => Date.parse(`${day}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00+01:00`);
const tomorrowOf = (d) => new Date(Date.parse(`${d}T12:00:00Z`) + 86400000).toISOString().slice(0, 10);

// The next offer on any of the desks.
async function nextOffer(desks, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    for (const d of desks) {
      const ev = d.events.find((e) => e.type === 'conversation' && e.conversation.role === 'offered');
      if (ev) { d.events.splice(d.events.indexOf(ev), 1); return { d, c: ev.conversation }; }
    }
    if (Date.now() > end) throw new Error('no offer');
    await sleep(20);
  }
}

test('reports page: a seeded day in charts and tables, Swedish and English', async () => {
  const s = new Server({ args: ['--config', configFile({
    admins: [{ username: 'admin', password: 'demo-admin' }],
    supervisors: [{ username: 'lena', password: 'demo-lena' }],
  })] });
  cleanup.push(async () => s.cleanup());
  // phases: local time, customers, how long each waits before it is accepted (ms)
  const phases = [
    [8, 0, [200, 300, 2500]], [9, 30, [100, 200, 300, 2600, 400]], [11, 0, [300, 2800, 200, 3000]],
    [13, 0, [150, 250]], [14, 30, [200, 2600, 300, 350, 400, 2700]], [16, 0, [100, 300, 200]],
  ];
  let n = 0;
  for (const [i, [hh, mm, waits]] of phases.entries()) {
    s.env = { TEXTDESK_CLOCK_OFFSET_MS: String(at(yesterday, hh, mm) - Date.now()) };
    await s.start();
    if (i === 0) {
      const admin = await apiLogin(s.url, 'admin', 'demo-admin');
      const r = await fetch(`${s.url}/api/reports/settings`, {
        method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ time_zone: 'Europe/Stockholm', queue_service_level_s: { 1: 2 } }),
      });
      assert.equal(r.status, 200);
    }
    const desks = [await Desk.open(s.url, 'anna', 'demo-anna'), await Desk.open(s.url, 'erik', 'demo-erik'),
      await Desk.open(s.url, 'maja', 'demo-maja')];
    const lunch = hh === 11;
    for (const [k, d] of desks.entries()) {
      await d.cmd('set_state', lunch && k === 2 ? { state: 'idle', reason: 1 } : { state: 'available' });
    }
    for (const w of waits) {
      const cust = `+4670555${String(n++).padStart(4, '0')}`;
      assert.equal((await simSend(s.url, cust, EP, 'Hej, jag har en fråga om min faktura')).status, 200);
      const { d, c } = await nextOffer(desks);
      await sleep(w);
      assert.equal((await d.cmd('accept', { conv: c.id })).ok, true);
      await d.reply(c.id, 'Hej! Jag tittar på det direkt.');
      await sleep(300);
      assert.equal((await d.cmd('end', { conv: c.id })).ok, true);
      assert.equal((await d.cmd('wrapup', { conv: c.id, reason: 1 + (n % 2) })).ok, true);
    }
    for (const d of desks) await d.close();
    assert.equal((await s.stop()).code, 0, s.output);
  }

  // the next morning
  s.env = { TEXTDESK_CLOCK_OFFSET_MS: String(at(tomorrowOf(yesterday), 9) - Date.now()) };
  await s.start();
  const browser = await launch();
  cleanup.push(async () => browser.close());
  const page = await agentPage(browser, `${s.url}/reports`, { viewport: { width: 1280, height: 1700 } });
  await page.locator('#login-form').waitFor();
  await page.fill('#login-user', 'lena');
  await page.fill('#login-pass', 'demo-lena');
  await page.click('#login-submit');
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.fill('#f-from', yesterday);
  await page.fill('#f-to', yesterday);
  await page.selectOption('#f-step', 'hour');
  const loaded = await page.locator('#app').getAttribute('data-loaded');
  await page.click('#f-apply');
  await page.waitForFunction((v) => document.getElementById('app').dataset.loaded !== v, loaded);

  // what the charts hold is what the API says
  const lena = await apiLogin(s.url, 'lena', 'demo-lena');
  const api = await (await fetch(`${s.url}/api/reports/figures?from=${yesterday}&to=${tomorrowOf(yesterday)}&step=hour&dim=total`,
    { headers: { cookie: lena.cookie } })).json();
  assert.equal(api.rows.reduce((a, r) => a + r.offered, 0), n);
  const volume = await page.evaluate(() => {
    const c = window.Chart.getChart('chart-volume');
    return { labels: c.data.labels, offered: c.data.datasets[0].data, sl: c.data.datasets[3].data, title: c.options.scales.y.title.text };
  });
  assert.deepEqual(volume.offered, api.rows.map((r) => r.offered));
  assert.equal(volume.labels[0], '08:00'); // from the first event to now: every hour counted
  assert.ok(['09:00', '11:00', '13:00', '14:00', '16:00'].every((h) => volume.labels.includes(h)));
  assert.ok(volume.sl.some((v) => v < 100) && volume.sl.some((v) => v === 100), JSON.stringify(volume.sl));
  assert.equal(volume.title, V.axis_conversations);
  const states = await page.evaluate(() => window.Chart.getChart('chart-states').data);
  assert.deepEqual(states.labels.slice().sort(), ['Anna Berg', 'Erik Lund', 'Maja Ek']);
  assert.ok(states.datasets[1].data.some((d) => d.reason === 'Lunch'));
  assert.deepEqual(await page.locator('#queue-body th').allTextContents(), ['Kundtjänst']);
  assert.deepEqual((await page.locator('#agent-body th').allTextContents()).sort(), ['Anna Berg', 'Erik Lund', 'Maja Ek']);
  assert.match(await page.locator('#agent-body').textContent(), /Lunch \d/);
  const csv = await page.locator('#csv').getAttribute('href');
  const r = await fetch(`${s.url}${csv}`, { headers: { cookie: lena.cookie } });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /^interval_start,interval_end,dimension,/);

  const clean = async () => {
    const body = await page.locator('body').innerText();
    assert.doesNotMatch(body, /undefined|null|NaN|\b[a-z]+_[a-z_]+\b/, 'no raw values or keys on screen');
  };
  await clean();
  await shot(page, 'reports-01-day-sv');
  await page.click('#app .lang-btn[data-lang="en"]');
  await waitText(page, '#queues-title', VE.queues);
  assert.equal(await page.evaluate(() => window.Chart.getChart('chart-volume').options.scales.y.title.text), VE.axis_conversations);
  await clean();
  await shot(page, 'reports-02-day-en');
  await page.setViewportSize({ width: 390, height: 2400 });
  await sleep(300);
  await shot(page, 'reports-03-phone-en');
  // a period the server would refuse is said in the page's language, with
  // what to do (it showed the API's English message)
  const daysBefore = (n) => new Date(Date.parse(yesterday) - n * 864e5).toISOString().slice(0, 10);
  await page.fill('#f-to', daysBefore(1));
  await page.click('#f-apply');
  await waitText(page, '#report-error', VE.err_range_order);
  await page.fill('#f-to', yesterday);
  await page.fill('#f-from', daysBefore(40));
  await page.selectOption('#f-step', '15min');
  await page.click('#f-apply');
  await waitText(page, '#report-error', VE.err_range_15min);
  await shot(page, 'reports-04-period-error-en');
  // worded again in Swedish when the language changes (it stayed English)
  await page.click('#app .lang-btn[data-lang="sv"]');
  await waitText(page, '#report-error', V.err_range_15min);
  assert.deepEqual(page.problems, []); // not even a 401 before the login: the page asks /api/session
  assert.equal((await s.stop()).code, 0, s.output);
});
