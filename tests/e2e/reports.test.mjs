// /api/reports/...: figures and agent states from the event log, JSON and
// CSV with the same columns, the same after a restart, for supervisors and
// administrators only, bad input refused with a clear error; and
// `textdesk admin report ...`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, bin } from './lib/server.mjs';
import { Desk, login, simSend } from './lib/client.mjs';

const EP = '+46700000001';
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-reports-'));
const config = path.join(dir, 'site.json');
writeFileSync(config, JSON.stringify({
  teams: [{ id: 1, name: 'Support' }],
  wrapup_reasons: [{ id: 1, name: 'Löst' }],
  idle_reasons: [{ id: 1, name: 'Lunch' }],
  queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
  entry_points: [{ id: 1, number: EP, queue: 1 }],
  agents: [{ id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna' }],
  supervisors: [{ username: 'lena', password: 'pw-lena' }],
  admins: [{ username: 'admin', password: 'pw-admin' }],
}));
const server = new Server({ args: ['--config', config] });
after(() => server.cleanup());

function cli(s, args, user, password) {
  return new Promise((resolve) => {
    execFile(bin, ['admin', '--url', s.url, '--user', user, ...args], {
      env: { ...process.env, TEXTDESK_ADMIN_PASSWORD: password, ASAN_OPTIONS: 'detect_leaks=1' },
    }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

const csvRows = (text) => text.trimEnd().split('\r\n').map((l) => l.split(','));

test('figures and states from the event log, JSON = CSV, the same after a restart', async () => {
  let s = await server.start();
  const t0 = Date.now();
  const anna = await Desk.open(s.url, 'anna', 'pw-anna');
  await anna.cmd('set_state', { state: 'available' });
  await new Promise((r) => setTimeout(r, 300));
  await simSend(s.url, '+46701234567', EP, 'Hej');
  const c = await anna.offer();
  await anna.cmd('accept', { conv: c.id });
  await anna.cmd('send', { conv: c.id, text: 'Hej! Vad kan jag hjälpa till med?' });
  await anna.cmd('end', { conv: c.id });
  await anna.cmd('wrapup', { conv: c.id, reason: 1 });
  await anna.cmd('set_state', { state: 'idle', reason: 1 });
  await new Promise((r) => setTimeout(r, 50));
  const t1 = Date.now() + 1;
  await anna.close();

  const lena = await login(s.url, 'lena', 'pw-lena');
  const get = (who, q) => fetch(`${s.url}/api/reports/${q}`, { headers: { cookie: who.cookie } });
  const q = `from=${t0}&to=${t1}&step=all&tz=Europe/Stockholm`;
  let r = await get(lena, `figures?${q}`);
  assert.equal(r.status, 200);
  const fig = await r.json();
  assert.equal(fig.range.time_zone, 'Europe/Stockholm');
  const total = fig.rows.find((x) => x.dimension === 'total');
  assert.equal(total.offered, 1);
  assert.equal(total.accepted, 1);
  assert.equal(total.service_level_pct, 100);
  assert.equal(total.messages_in, 1);
  assert.equal(total.messages_out, 1);
  assert.equal(total.sms_segments, 1);
  assert.equal(total.handled, 1);
  assert.equal(total.wrapups_by_reason, 'Löst=1');
  const queue = fig.rows.find((x) => x.dimension === 'queue');
  assert.equal(queue.name, 'Kundtjänst');
  assert.equal(queue.service_level_threshold_s, 60);
  const agent = fig.rows.find((x) => x.dimension === 'agent');
  assert.equal(agent.name, 'Anna Berg');
  assert.equal(agent.accepted, 1);
  assert.ok(agent.available_s > 0 && agent.idle_s >= 0, JSON.stringify(agent));
  assert.match(agent.idle_by_reason, /^Lunch=\d+\.\d$/);
  assert.ok(fig.rows.find((x) => x.dimension === 'team'));

  r = await get(lena, `figures.csv?${q}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  const csv = csvRows(await r.text());
  assert.deepEqual(csv[0], fig.columns); // the same columns
  assert.equal(csv.length, fig.rows.length + 1);
  const qcsv = csv.find((row) => row[2] === 'queue');
  fig.columns.forEach((col, i) => {
    const v = queue[col];
    if (typeof v === 'number') assert.equal(Number(qcsv[i]), v, col);
    else assert.equal(qcsv[i], v === null ? '' : v, col);
  });

  r = await get(lena, `states?from=${t0}&to=${t1}&tz=Europe/Stockholm`);
  const st = await r.json();
  assert.deepEqual(st.states.map((x) => [x.name, x.state, x.idle_reason]),
    [['Anna Berg', 'idle', ''], ['Anna Berg', 'available', ''], ['Anna Berg', 'idle', 'Lunch']]);
  assert.ok(st.states.every((x) => x.start_ms >= t0 && x.end_ms <= t1 && /\+01:00$/.test(x.start)));

  // filters
  r = await get(lena, `figures?${q}&dim=agent&id=1`);
  assert.deepEqual((await r.json()).rows.map((x) => [x.dimension, x.id]), [['agent', 1]]);
  r = await get(lena, `figures?${q}&dim=queue&id=9`);
  assert.deepEqual((await r.json()).rows, []);

  // the same figures after a restart: they come from the log
  assert.equal((await s.stop()).code, 0, s.output);
  s = await server.start();
  const lena2 = await login(s.url, 'lena', 'pw-lena');
  r = await fetch(`${s.url}/api/reports/figures?${q}`, { headers: { cookie: lena2.cookie } });
  assert.deepEqual(await r.json(), fig);

  // the command line, as a supervisor
  let out = await cli(s, ['report', 'figures', '--csv', '--from', String(t0), '--to', String(t1),
    '--step', 'all', '--tz', 'Europe/Stockholm'], 'lena', 'pw-lena');
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(csvRows(out.stdout), csv);
  out = await cli(s, ['report', 'figures', '--colour', 'red'], 'lena', 'pw-lena');
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--colour: unknown option/);
  out = await cli(s, ['report', 'figures', '--tz', 'Mars/Base'], 'lena', 'pw-lena');
  assert.equal(out.code, 1);
  assert.match(out.stderr, /^textdesk admin: tz: unknown time zone.*\(HTTP 400, bad_time_zone\)\n$/);
  assert.equal((await s.stop()).code, 0, s.output);
});

test('reports: who may read them, settings, bad input', async () => {
  const s = await server.start();
  const lena = await login(s.url, 'lena', 'pw-lena');
  const admin = await login(s.url, 'admin', 'pw-admin');
  const anna = await login(s.url, 'anna', 'pw-anna');
  const req = (who, p, init = {}) => fetch(`${s.url}/api/reports/${p}`,
    { ...init, headers: { cookie: who ? who.cookie : '', 'content-type': 'application/json' } });

  assert.equal((await req(null, 'figures')).status, 401);
  assert.equal((await req(anna, 'figures')).status, 403);
  assert.equal((await req(admin, 'figures')).status, 200);
  for (const [p, code] of [
    ['figures?tz=Mars/Base', 'bad_time_zone'], ['figures?step=week', 'bad_step'],
    ['figures?from=2026-13-01', 'bad_range'], ['figures?from=20&to=10', 'bad_range'],
    ['figures?from=2020-01-01&to=2026-01-01', 'bad_range'],
    ['figures?step=15min&from=2026-01-01&to=2026-03-01', 'bad_range'],
    ['figures?dim=planet', 'bad_dim'], ['figures?id=1', 'bad_id'], ['figures?dim=queue&id=x', 'bad_id'],
  ]) {
    const r = await req(lena, p);
    assert.equal(r.status, 400, p);
    const body = await r.json();
    assert.equal(body.error, code, p);
    assert.ok(body.message.length > 10);
  }
  assert.equal((await req(lena, 'nothing')).status, 404);
  assert.equal((await req(lena, 'figures', { method: 'POST', body: '{}' })).status, 405);

  // settings: read by supervisors, changed by administrators
  let r = await req(lena, 'settings');
  assert.deepEqual(await r.json(), { time_zone: 'UTC', service_level_s: 60, queue_service_level_s: {} });
  r = await req(lena, 'settings', { method: 'PUT', body: '{"service_level_s":30}' });
  assert.equal(r.status, 403);
  for (const body of ['{"service_level_s":0}', '{"time_zone":"Mars/Base"}', '{"colour":1}',
    '{"queue_service_level_s":{"x":3}}', '{"queue_service_level_s":{"1":"3"}}',
    '{"queue_service_level_s":{"01":3}}', 'not json']) {
    r = await req(admin, 'settings', { method: 'PUT', body });
    assert.equal(r.status, 400, body);
  }
  // a queue that does not exist: refused as the admin API refuses a
  // reference (before: stored), with the time zone beside it not stored either
  r = await req(admin, 'settings', { method: 'PUT',
    body: '{"time_zone":"Europe/Stockholm","queue_service_level_s":{"1":30,"4242":20}}' });
  assert.equal(r.status, 422);
  assert.deepEqual(await r.json(), { error: 'no_such_queue', code: 'no_such_queue',
    field: 'queue_service_level_s.4242',
    message: 'queue_service_level_s.4242: no such queue: check the id, or add the queue first' });
  assert.equal((await (await req(lena, 'settings')).json()).time_zone, 'UTC');
  r = await req(admin, 'settings', { method: 'PUT',
    body: '{"time_zone":"Europe/Stockholm","queue_service_level_s":{"1":30}}' });
  assert.equal(r.status, 200);
  // the stored settings back, as GET gives them (defaults of the rest too)
  assert.deepEqual(await r.json(), { time_zone: 'Europe/Stockholm', service_level_s: 60,
    queue_service_level_s: { 1: 30 } });
  r = await req(lena, 'figures?step=day');
  const fig = await r.json();
  assert.equal(fig.range.time_zone, 'Europe/Stockholm');
  assert.match(fig.range.from, /T00:00:00\+01:00$/);
  r = await req(lena, 'settings');
  assert.deepEqual(await r.json(), { time_zone: 'Europe/Stockholm', service_level_s: 60,
    queue_service_level_s: { 1: 30 } });
  assert.equal((await s.stop()).code, 0, s.output);
});
