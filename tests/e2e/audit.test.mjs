// The audit trail against the real binary (docs/security.md): logins
// (success and failure), administrative changes, supervisor views and
// writes made with tokens are recorded with who, when, from where and what;
// administrators read it with filters, as JSON or CSV; nothing in the
// product changes it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { login, simSend, until } from './lib/client.mjs';

const server = new Server();
after(() => server.cleanup());

async function call(s, method, path, { cookie, token, body } = {}) {
  const h = {};
  if (cookie) h.cookie = cookie;
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(`${s.url}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV */ }
  return { status: r.status, json, text, type: r.headers.get('content-type') };
}

test('the audit trail records who did what, from where, and cannot be changed', async () => {
  const s = await server.start();
  const t0 = Date.now();
  assert.equal((await login(s.url, 'admin', 'wrong')).status, 401);
  assert.equal((await login(s.url, 'nobody', 'x')).status, 401);
  const adminC = (await login(s.url, 'admin', 'demo-admin')).cookie;
  const lena = (await login(s.url, 'lena', 'demo-lena')).cookie;
  const anna = (await login(s.url, 'anna', 'demo-anna')).cookie;

  let r = await call(s, 'PUT', '/api/admin/teams/9', { cookie: adminC, body: { name: 'Natt' } });
  assert.equal(r.status, 200);
  r = await call(s, 'PUT', '/api/admin/teams/9', { cookie: adminC, body: { name: 'Natt', colour: 'red' } });
  assert.equal(r.status, 400); // refused changes are recorded too, with their status
  r = await call(s, 'PUT', '/api/admin/settings', { cookie: adminC, body: { mask_sensitive_data: false } });
  assert.equal(r.status, 200);
  const tok = (await call(s, 'POST', '/api/admin/tokens', { cookie: adminC, body: { name: 'CRM', role: 'admin' } })).json;
  assert.equal((await call(s, 'GET', '/api/admin/queues', { token: tok.token })).status, 200); // a read: not recorded
  assert.equal((await call(s, 'DELETE', '/api/admin/teams/9', { token: tok.token })).status, 200);
  // a supervisor opens a transcript
  await simSend(s.url, '+46701111111', '+46700000001', 'Hej, mitt kort är spärrat');
  let conv;
  await until(async () => {
    conv = (await call(s, 'GET', '/api/supervisor/overview', { cookie: lena })).json.conversations[0];
    return conv;
  });
  assert.equal((await call(s, 'GET', `/api/supervisor/conversations/${conv.id}`, { cookie: lena })).status, 200);
  // a supervisor's action (force state; Anna has no desktop open: refused,
  // and recorded with its status all the same)
  const forced = await call(s, 'POST', '/api/supervisor/agents/1/state', { cookie: lena, body: { state: 'idle', reason: 1 } });
  assert.ok([200, 422].includes(forced.status), JSON.stringify(forced.json));
  // an agent's own reads are no administration
  assert.equal((await call(s, 'GET', '/api/lists', { cookie: anna })).status, 200);

  const all = await call(s, 'GET', '/api/admin/audit', { cookie: adminC });
  assert.equal(all.status, 200);
  const rows = all.json.entries.map((e) => `${e.actor}|${e.via}|${e.action}|${e.detail}`);
  assert.deepEqual(rows.reverse(), [
    'admin|login|login|bad_credentials',
    'nobody|login|login|bad_credentials',
    'admin|login|login|ok',
    'lena|login|login|ok',
    'anna|login|login|ok',
    'admin|session|PUT /api/admin/teams/9|200',
    'admin|session|PUT /api/admin/teams/9|400',
    'admin|session|PUT /api/admin/settings|200',
    'admin|session|POST /api/admin/tokens|201',
    'token:CRM|token|DELETE /api/admin/teams/9|200',
    `lena|session|GET /api/supervisor/conversations/${conv.id}|200`,
    `lena|session|POST /api/supervisor/agents/1/state|${forced.status}`,
  ]);
  for (const e of all.json.entries) {
    assert.equal(e.peer, '127.0.0.1');
    assert.ok(e.at >= t0 - 1000 && e.at <= Date.now() + 1000, JSON.stringify(e));
  }
  assert.ok(!all.text.includes('wrong') && !all.text.includes('demo-admin'), 'no passwords');
  assert.ok(!all.text.includes(tok.token), 'no token secrets');

  // filters: actor, action prefix, time, paging
  r = await call(s, 'GET', '/api/admin/audit?actor=token%3ACRM', { cookie: adminC });
  assert.deepEqual(r.json.entries.map((e) => e.action), ['DELETE /api/admin/teams/9']);
  r = await call(s, 'GET', '/api/admin/audit?action=login', { cookie: adminC });
  assert.equal(r.json.entries.length, 5);
  r = await call(s, 'GET', `/api/admin/audit?from=${Date.now() + 60000}`, { cookie: adminC });
  assert.deepEqual(r.json.entries, []);
  r = await call(s, 'GET', '/api/admin/audit?limit=4', { cookie: adminC });
  assert.equal(r.json.entries.length, 4);
  const page2 = await call(s, 'GET', `/api/admin/audit?limit=4&before=${r.json.next_before}`, { cookie: adminC });
  assert.equal(page2.json.entries[0].id, r.json.entries[3].id - 1);
  for (const q of ['from=abc', 'limit=-1', 'limit=0', 'limit=00', 'limit=5000', 'from=10&to=5', 'before=1x']) {
    r = await call(s, 'GET', `/api/admin/audit?${q}`, { cookie: adminC });
    assert.equal(r.status, 400, q);
    assert.equal(r.json.error, 'bad_filter');
  }

  // CSV
  r = await call(s, 'GET', '/api/admin/audit.csv?action=PUT', { cookie: adminC });
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/csv/);
  const lines = r.text.trim().split('\r\n');
  assert.equal(lines[0], 'id,time,actor,via,peer,action,target,detail');
  assert.equal(lines.length, 4);
  assert.match(lines[1], /^\d+,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,admin,session,127\.0\.0\.1,PUT \/api\/admin\/settings,,200$/);

  // a user name that is a spreadsheet formula, or long and cut inside a
  // character: kept as text, valid UTF-8
  assert.equal((await login(s.url, '=HYPERLINK("http://x")', 'x')).status, 401);
  assert.equal((await login(s.url, `a${'å'.repeat(60)}`, 'x')).status, 401);
  r = await call(s, 'GET', '/api/admin/audit.csv?action=login&limit=2', { cookie: adminC });
  const csv = r.text.trim().split('\r\n');
  assert.match(csv[2], /,"'=HYPERLINK\(""http:\/\/x""\)",login,/);
  r = await call(s, 'GET', '/api/admin/audit?action=login&limit=1', { cookie: adminC });
  assert.equal(r.json.entries[0].actor, `a${'å'.repeat(47)}`); // 96 bytes, then whole characters

  // administrators only; no way to change it
  assert.equal((await call(s, 'GET', '/api/admin/audit', { cookie: lena })).status, 403);
  assert.equal((await call(s, 'GET', '/api/admin/audit')).status, 401);
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    r = await call(s, m, '/api/admin/audit', { cookie: adminC, body: {} });
    assert.equal(r.status, 405, m);
  }
  assert.equal((await call(s, 'DELETE', '/api/admin/audit/1', { cookie: adminC })).status, 404);
  const after2 = (await call(s, 'GET', '/api/admin/audit?action=GET', { cookie: adminC })).json.entries;
  assert.equal(after2.length, 1); // only the transcript view

  // it survives a restart
  assert.equal((await s.stop()).code, 0, s.output);
  await server.start();
  const c2 = (await login(s.url, 'admin', 'demo-admin')).cookie;
  r = await call(s, 'GET', '/api/admin/audit?limit=1000', { cookie: c2 });
  assert.ok(r.json.entries.length >= 19, String(r.json.entries.length));
  assert.equal((await s.stop()).code, 0, s.output);
});
