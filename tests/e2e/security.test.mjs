// Security checks over real HTTP/WebSocket (issue 8): login throttling,
// session expiry, CSRF, JSON depth, SQL-looking input, the CSP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend } from './lib/client.mjs';
import { storeQuery } from './lib/pg.mjs';

const EP = '+46700000001';
const servers = [];
after(() => servers.forEach((s) => s.cleanup()));

async function start(opts) {
  const s = new Server(opts);
  servers.push(s);
  return s.start();
}

test('login attempts are slowed per user and address, never locked out', async () => {
  const s = await start();
  // 3 free failures, then the next try waits 1 s, 2 s, 4 s, ...
  for (let i = 0; i < 4; i++) assert.equal((await login(s.url, 'erik', `wrong-${i}`)).status, 401);
  const slowed = await login(s.url, 'erik', 'demo-erik'); // even the right password, for now
  assert.equal(slowed.status, 429);
  assert.equal(slowed.body.error, 'too_many_attempts');
  assert.match(slowed.body.message, /try again in \d+ s/);
  assert.equal(slowed.body.retry_after_s, 1);
  assert.equal((await login(s.url, 'anna', 'demo-anna')).status, 200); // others unaffected
  // after the wait the right password works: slowed, not locked out
  await new Promise((r) => setTimeout(r, 1000 * slowed.body.retry_after_s + 100));
  assert.equal((await login(s.url, 'erik', 'demo-erik')).status, 200);
  // unknown users are throttled too, and answered like wrong passwords
  const r = await login(s.url, 'nobody', 'x');
  assert.deepEqual([r.status, r.body.error], [401, 'bad_credentials']);
  assert.equal((await s.stop()).code, 0, s.output);
});

test('a password check does not hold the server up; one check at a time per name', async () => {
  const s = await start();
  // argon2id costs about 100 ms of CPU a check (more on a loaded machine):
  // five logins at once used to freeze every other request behind them
  const users = ['anna', 'erik', 'maja', 'admin', 'lena'];
  const t0 = Date.now();
  const logins = Promise.all(users.map((u) => login(s.url, u, `demo-${u}`).then((r) => ({ r, ms: Date.now() - t0 }))));
  await new Promise((r) => setTimeout(r, 30)); // the checks are under way
  const h0 = Date.now();
  const health = await fetch(`${s.url}/api/health`);
  const healthMs = Date.now() - h0;
  assert.equal(health.status, 200);
  const done = await logins;
  for (const { r } of done) assert.equal(r.status, 200, JSON.stringify(r.body));
  const lastMs = Math.max(...done.map((d) => d.ms));
  // answered while the checks ran, not after them (they run one after another)
  assert.ok(healthMs * 3 < lastMs, `health took ${healthMs} ms; the logins ${lastMs} ms`);
  // the same name twice at once: the second is asked to retry, not checked
  const [a, b] = await Promise.all([login(s.url, 'erik', 'demo-erik'), login(s.url, 'erik', 'demo-erik')]);
  const statuses = [a.status, b.status].sort();
  assert.deepEqual(statuses, [200, 429]);
  const busy = a.status === 429 ? a : b;
  assert.equal(busy.body.error, 'too_many_attempts');
  assert.equal(busy.body.retry_after_s, 1);
  assert.match(busy.body.message, /try again in 1 s/);
  assert.equal((await s.stop()).code, 0, s.output);
});

test('sessions expire after 12 hours and are purged', async () => {
  const s = await start();
  const l = await login(s.url, 'anna', 'demo-anna');
  let r = await fetch(`${s.url}/api/me`, { headers: { cookie: l.cookie } });
  assert.equal(r.status, 200);
  await s.stop();
  assert.deepEqual(storeQuery(s, 'SELECT count(*) FROM sessions'), ['1']);
  s.env = { TEXTDESK_CLOCK_OFFSET_MS: String(12 * 3600 * 1000 + 60000) };
  await s.start();
  r = await fetch(`${s.url}/api/me`, { headers: { cookie: l.cookie } });
  assert.equal(r.status, 401);
  // the start purged it (then every hour): the table does not grow for ever
  const logged = await login(s.url, 'erik', 'demo-erik');
  assert.equal(logged.status, 200);
  assert.match(s.output, /expired sessions purged.*"count":"1"/);
  assert.deepEqual(storeQuery(s, 'SELECT count(*) FROM sessions'), ['1']); // erik's only
  await assert.rejects(new Desk(s.url, l.cookie).connect(), /ws refused: 401/);
  assert.equal((await s.stop()).code, 0, s.output);
});

test('CSRF, JSON depth, SQL-looking input, CSP', async () => {
  const s = await start();
  const admin = await login(s.url, 'admin', 'demo-admin');
  // a state-changing request from another origin is refused
  let r = await fetch(`${s.url}/api/admin/settings`, {
    method: 'PUT', body: JSON.stringify({ mask_sensitive_data: true }),
    headers: { cookie: admin.cookie, origin: 'http://evil.example', 'content-type': 'application/json' },
  });
  assert.deepEqual([r.status, (await r.json()).error], [403, 'cross_origin']);
  r = await fetch(`${s.url}/api/admin/settings`, { headers: { cookie: admin.cookie } });
  assert.equal((await r.json()).mask_sensitive_data, false);

  // nesting limits, REST and WebSocket
  const deep = '['.repeat(40) + ']'.repeat(40);
  r = await fetch(`${s.url}/api/login`, { method: 'POST', body: deep });
  assert.deepEqual([r.status, (await r.json()).error], [400, 'too_deep']);
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  anna.raw(`{"cmd":"ping","x":${deep}}`);
  assert.equal((await anna.wait((e) => e.type === 'result' && e.error === 'too_deep')).ok, false);
  assert.equal((await anna.cmd('ping')).ok, true); // still connected

  // SQL-looking input is data, never SQL
  assert.equal((await login(s.url, "anna' OR '1'='1", "x' OR '1'='1")).status, 401);
  assert.equal((await login(s.url, 'admin', 'demo-admin')).status, 200);
  const evil = "Robert'); DROP TABLE messages;--";
  await anna.cmd('set_state', { state: 'available' });
  assert.equal((await simSend(s.url, '+46701234567', EP, evil)).status, 200);
  const offer = await anna.offer();
  await anna.cmd('accept', { conv: offer.id });
  const t = await anna.cmd('messages', { conv: offer.id });
  assert.equal(t.messages[0].text, evil);
  assert.equal((await simSend(s.url, "+4670'; --", EP, 'x')).body.error, 'invalid');

  // every response carries the CSP; the page has no inline script
  r = await fetch(`${s.url}/`);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  const html = await r.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.match((await fetch(`${s.url}/api/health`)).headers.get('content-security-policy'), /default-src 'self'/);
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
