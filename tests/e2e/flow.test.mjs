// Entry-point flows through the running server: the welcome auto-reply,
// business hours (an always-closed schedule) with the out-of-hours reply
// and close-or-queue, the maximum queue wait overflowing to another queue
// with its reply. Automatic replies go out through the outbox (the built-in
// simulator's inbox shows what the customer got). Also the admin API's
// validation of flows, its round trip, /metrics and the CSV report.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend, simInbox, until } from './lib/client.mjs';
import { configFile } from './lib/desk.mjs';
import { parsePrometheus, sample } from './lib/prometheus.mjs';

const OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));
const WELCOME = 'Hej! Vi svarar så snart vi kan. 😀';
const OVERFLOW = 'Det dröjer – vi flyttar dig till Sälj.';
const CLOSED = 'Vi har stängt just nu. Öppet vardagar 8–17.';

const servers = [];
after(() => servers.forEach((s) => s.cleanup()));

async function start() {
  const s = new Server({
    args: ['--config', configFile({
      admins: [{ username: 'admin', password: 'demo-admin' }],
      entry_points: [
        {
          id: 1, number: '+46700000001', queue: 1, welcome_reply: WELCOME,
          hours: { time_zone: 'Europe/Stockholm', week: OPEN, holidays: ['2030-12-24'] },
          max_wait_s: 2, overflow_queue: 2, overflow_reply: OVERFLOW,
        },
        {
          id: 2, number: '71000', queue: 2,
          hours: { time_zone: 'Europe/Stockholm', week: {}, closed_reply: CLOSED, closed_action: 'close' },
        },
      ],
    })],
  });
  servers.push(s);
  return s.start();
}

const texts = async (url, number) => (await simInbox(url, number)).map((m) => m.text);

test('welcome, then overflow to another queue after the maximum wait', async () => {
  const s = await start();
  const cust = '+46701112233';
  await simSend(s.url, cust, '+46700000001', 'Hej, min order?', 'f-1');
  await until(async () => (await texts(s.url, cust)).includes(WELCOME));
  // nobody serves Kundtjänst: after 2 s it moves to Sälj with the reply
  await until(async () => (await texts(s.url, cust)).length === 2, 8000);
  assert.deepEqual(await texts(s.url, cust), [WELCOME, OVERFLOW]);
  // a Sälj agent gets it from the Sälj queue, with the automatic replies
  // in the transcript as agent 0
  const maja = await Desk.open(s.url, 'maja', 'demo-maja');
  await maja.cmd('set_state', { state: 'available' });
  const offer = await maja.offer(8000);
  assert.equal(offer.queue_name, 'Sälj');
  const tr = await maja.cmd('messages', { conv: offer.id });
  const msgs = tr.messages.filter((m) => m.kind !== 'system');
  assert.deepEqual(msgs.map((m) => [m.dir, m.agent, m.text]),
    [['in', 0, 'Hej, min order?'], ['out', 0, WELCOME], ['out', 0, OVERFLOW]]);
  const note = tr.messages.find((m) => m.kind === 'system' && m.why === 'overflow');
  assert.ok(note, 'the transcript notes the overflow');
  assert.equal(note.queue_name, 'Sälj');
  // a second message in the same conversation gets no second welcome
  await simSend(s.url, cust, '+46700000001', 'Hallå?', 'f-2');
  await maja.wait((e) => e.type === 'message' && e.message.text === 'Hallå?');
  assert.equal((await texts(s.url, cust)).length, 2);

  const m = parsePrometheus(await (await fetch(`${s.url}/metrics`)).text());
  assert.equal(sample(m, 'textdesk_overflows_total'), 1);
  assert.equal(sample(m, 'textdesk_messages_out_total'), 2);
  maja.close();
});

test('out of hours: the closed reply, then closed or queued as configured', async () => {
  const s = await start();
  const cust = '+46702223344';
  await simSend(s.url, cust, '71000', 'Är ni där?', 'c-1');
  await until(async () => (await texts(s.url, cust)).includes(CLOSED));
  // closed at once: no agent of Sälj is offered it
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  await assert.rejects(anna.offer(1500));
  const admin = await login(s.url, 'admin', 'demo-admin');

  // the administrator switches the entry point to queue out of hours
  const put = (id, body) => fetch(`${s.url}/api/admin/entry_points/${id}`, {
    method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const ep2 = { id: 2, number: '71000', queue: 2, hours: { time_zone: 'Europe/Stockholm', week: {}, closed_reply: CLOSED, closed_action: 'queue' } };
  assert.equal((await put(2, ep2)).status, 200);
  await simSend(s.url, cust, '71000', 'Hallå igen', 'c-2');
  const offer = await anna.offer(8000);
  assert.equal(offer.queue_name, 'Sälj');
  assert.deepEqual(await texts(s.url, cust), [CLOSED, CLOSED]);
  const tr = await anna.cmd('messages', { conv: offer.id });
  assert.ok(tr.messages.some((m) => m.kind === 'system' && m.why === 'out_of_hours'));
  // the conversation closed out of hours is in the customer's history
  assert.equal((await anna.cmd('accept', { conv: offer.id })).ok, true);
  const hist = await anna.cmd('history', { conv: offer.id });
  const earlier = hist.history.filter((x) => x.conv !== offer.id);
  assert.equal(earlier.length, 1);
  assert.ok(earlier[0].closed_at > 0);

  const m = parsePrometheus(await (await fetch(`${s.url}/metrics`)).text());
  assert.equal(sample(m, 'textdesk_out_of_hours_total'), 2);
  // the CSV report marks both
  const csv = await (await fetch(`${s.url}/api/admin/report/conversations.csv`, { headers: { cookie: admin.cookie } })).text();
  const [head, ...rows] = csv.trim().split('\r\n').map((l) => l.split(','));
  const col = head.indexOf('out_of_hours');
  assert.ok(col > 0);
  assert.deepEqual(rows.map((r) => r[col]), ['1', '1']);
  anna.close();
});

test('admin API: flows round-trip and bad flows are refused by field', async () => {
  const s = await start();
  const admin = await login(s.url, 'admin', 'demo-admin');
  const h = { cookie: admin.cookie, 'content-type': 'application/json' };
  const get = async (id) => (await fetch(`${s.url}/api/admin/entry_points/${id}`, { headers: h })).json();
  const put = (id, body) => fetch(`${s.url}/api/admin/entry_points/${id}`, { method: 'PUT', headers: h, body: JSON.stringify(body) });

  const ep1 = await get(1);
  assert.equal(ep1.welcome_reply, WELCOME);
  assert.equal(ep1.hours.time_zone, 'Europe/Stockholm');
  assert.equal(ep1.hours.tz_rule, undefined, 'the stored rule is not shown');
  assert.deepEqual(ep1.hours.week.mon, ['00:00-24:00']);
  assert.deepEqual(ep1.hours.holidays, ['2030-12-24']);
  assert.equal(ep1.max_wait_s, 2);
  assert.equal(ep1.overflow_queue, 2);
  // what GET gives, PUT takes back unchanged
  assert.equal((await put(1, ep1)).status, 200);
  assert.deepEqual(await get(1), ep1);

  const base = { id: 3, number: '+46700000003', queue: 1 };
  const cases = [
    [{ hours: { time_zone: 'Mars/Olympus', week: {} } }, /^hours\.time_zone: unknown time zone/],
    [{ hours: { time_zone: '../../etc/passwd', week: {} } }, /^hours\.time_zone: unknown time zone/],
    [{ hours: { time_zone: 'Europe/Stockholm', week: { mon: ['17:00-08:00'] } } }, /^hours\.week\.mon\[0\]: must be "HH:MM-HH:MM"/],
    [{ hours: { time_zone: 'Europe/Stockholm', week: { mon: ['08:00-12:00', '11:00-13:00'] } } }, /^hours\.week\.mon\[1\]: overlaps/],
    [{ hours: { time_zone: 'Europe/Stockholm', week: { funday: [] } } }, /^hours\.week\.funday: unknown day/],
    [{ hours: { time_zone: 'Europe/Stockholm', week: {}, holidays: ['2026-02-30'] } }, /^hours\.holidays\[0\]: must be a real date/],
    [{ hours: { time_zone: 'Europe/Stockholm', week: {}, closed_action: 'panic' } }, /^hours\.closed_action: must be "queue" or "close"/],
    [{ hours: { time_zone: 'Europe/Stockholm', week: {}, colour: 'red' } }, /^hours\.colour: unknown key/],
    [{ hours: { week: {} } }, /^hours\.time_zone: required/],
    [{ max_wait_s: 60 }, /^max_wait_s: a maximum wait needs an overflow_queue or an overflow_reply/],
    [{ max_wait_s: 60, overflow_queue: 1 }, /^overflow_queue: must differ from the entry point's queue/],
    [{ max_wait_s: -1, overflow_reply: 'x' }, /^max_wait_s: must be a whole number/],
    [{ welcome_reply: 'x'.repeat(1001) }, /^welcome_reply: must be at most 1000 characters/],
  ];
  for (const [extra, want] of cases) {
    const r = await put(3, { ...base, ...extra });
    const body = await r.json();
    assert.equal(r.status, 400, JSON.stringify(extra));
    assert.match(body.message, want);
  }
  const noQueue = await put(3, { ...base, max_wait_s: 60, overflow_queue: 9 });
  assert.equal(noQueue.status, 422);
  assert.match((await noQueue.json()).message, /overflow_queue/);
  // nothing of that was stored
  assert.equal((await fetch(`${s.url}/api/admin/entry_points/3`, { headers: h })).status, 404);
  // a POSIX rule is a time zone too; the queue it overflows to cannot go
  assert.equal((await put(3, { ...base, hours: { time_zone: 'CET-1CEST,M3.5.0,M10.5.0/3', week: { mon: ['08:00-17:00'] } }, max_wait_s: 60, overflow_queue: 2, overflow_reply: 'x' })).status, 200);
  const del = await fetch(`${s.url}/api/admin/queues/2`, { method: 'DELETE', headers: h });
  assert.equal(del.status, 409);

  // export carries the flows; a restart replays them from the event log
  const exp = await (await fetch(`${s.url}/api/admin/export`, { headers: h })).json();
  assert.equal(exp.entry_points.find((e) => e.id === 3).hours.time_zone, 'CET-1CEST,M3.5.0,M10.5.0/3');
  await s.stop();
  await s.start();
  const again = await login(s.url, 'admin', 'demo-admin');
  const ep1b = await (await fetch(`${s.url}/api/admin/entry_points/1`, { headers: { cookie: again.cookie } })).json();
  assert.deepEqual(ep1b, ep1);
});

test('desktop: the welcome reply shows as an automatic reply in the conversation', async () => {
  const { launch, agentPage, shot } = await import('./lib/browser.mjs');
  const { login: deskLogin, waitText, problems } = await import('./lib/desk.mjs');
  const s = await start();
  const browser = await launch();
  try {
    const page = await agentPage(browser, s.url, { lang: 'sv' });
    await deskLogin(page, 'anna', 'demo-anna');
    await page.selectOption('#state-select', 'available');
    await page.locator('#state-dot.state-available').waitFor();
    await simSend(s.url, '+46703334455', '+46700000001', 'Hej! Har ni öppet?', 'd-1');
    await page.locator('.offer .accept').first().click({ timeout: 10000 });
    await waitText(page, '.msg-out .who', 'Automatiskt svar:');
    await waitText(page, '.msg-out .text', WELCOME);
    await shot(page, 'sv-30-automatic-reply');
    // accepted within the maximum wait: no overflow reply follows
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(await texts(s.url, '+46703334455'), [WELCOME]);
    assert.deepEqual(problems(page), []);
  } finally {
    await browser.close();
  }
});
