// API tokens and the audit trail against the real binary (docs/security.md):
// tokens made by an administrator work with the role's checks and no more,
// bad, expired and revoked ones get a clear 401, only agent tokens open the
// agent WebSocket; logins, administrative changes, supervisor actions and
// token writes land in an audit trail that the product cannot change.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import WebSocket from 'ws';
import { Server, bin } from './lib/server.mjs';
import { login } from './lib/client.mjs';

const server = new Server();
after(() => server.cleanup());

async function call(s, method, path, { cookie, token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (cookie) h.cookie = cookie;
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(`${s.url}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV */ }
  return { status: r.status, json, text, type: r.headers.get('content-type') };
}

function wsOpen(s, headers) {
  return new Promise((resolve) => {
    const ws = new WebSocket(s.url.replace('http', 'ws') + '/ws', { headers: { origin: s.url, ...headers } });
    ws.on('message', (d) => { const m = JSON.parse(d.toString()); ws.close(); resolve({ ok: true, type: m.type, snapshot: m }); });
    ws.on('unexpected-response', (req, res) => resolve({ ok: false, status: res.statusCode }));
    ws.on('error', () => resolve({ ok: false, status: 0 }));
  });
}

function admin(s, args, env = {}) {
  return new Promise((resolve) => {
    execFile(bin, ['admin', '--url', s.url, ...args], {
      env: { ...process.env, TEXTDESK_ADMIN_PASSWORD: 'demo-admin', ASAN_OPTIONS: 'detect_leaks=1', ...env },
    }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

test('API tokens: created once, hashed, role-checked, expiring, revocable', async () => {
  const s = await server.start();
  const adminC = (await login(s.url, 'admin', 'demo-admin')).cookie;
  const anna = (await call(s, 'GET', '/api/admin/agents', { cookie: adminC })).json.agents.find((a) => a.name.startsWith('Anna'));
  assert.ok(anna, 'the demo site has Anna');

  // bad requests change nothing
  for (const [body, code] of [
    [{ name: 'x' }, 'bad_request'],
    [{ name: '', role: 'admin' }, 'bad_name'],
    [{ name: 'x', role: 'root' }, 'bad_role'],
    [{ name: 'x', role: 'agent' }, 'bad_agent'],
    [{ name: 'x', role: 'agent', agent: 4242 }, 'bad_agent'],
    [{ name: 'x', role: 'admin', agent: anna.id }, 'bad_agent'],
    [{ name: 'x', role: 'admin', expires_at: 1000 }, 'bad_expiry'],
    [{ name: 'x', role: 'admin', expires_in_days: 0 }, 'bad_expiry'],
    [{ name: 'x', role: 'admin', expires_in_days: 0, expires_at: Date.now() + 1e6 }, 'bad_expiry'],
    [{ name: 'x', role: 'admin', colour: 'red' }, 'bad_request'],
  ]) {
    const r = await call(s, 'POST', '/api/admin/tokens', { cookie: adminC, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error, code, JSON.stringify(r.json));
    assert.ok(r.json.message.length > 10);
  }
  assert.deepEqual((await call(s, 'GET', '/api/admin/tokens', { cookie: adminC })).json.tokens, []);
  // only administrators manage tokens
  const lena = (await login(s.url, 'lena', 'demo-lena')).cookie;
  assert.equal((await call(s, 'POST', '/api/admin/tokens', { cookie: lena, body: { name: 'x', role: 'admin' } })).status, 403);
  assert.equal((await call(s, 'GET', '/api/admin/tokens')).status, 401);

  const mk = async (body) => {
    const r = await call(s, 'POST', '/api/admin/tokens', { cookie: adminC, body });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json;
  };
  const crm = await mk({ name: 'CRM', role: 'admin', expires_in_days: 30 });
  assert.match(crm.token, /^tdt_[A-Za-z0-9_-]{43}$/);
  assert.equal(crm.role, 'admin');
  assert.equal(crm.created_by, 'admin');
  assert.ok(Math.abs(crm.expires_at - (Date.now() + 30 * 86400000)) < 60000);
  const wall = await mk({ name: 'Wallboard', role: 'supervisor' });
  const bot = await mk({ name: 'Bot', role: 'agent', agent: anna.id });
  const brief = await mk({ name: 'Brief', role: 'admin', expires_at: Date.now() + 1500 });
  assert.equal((await call(s, 'POST', '/api/admin/tokens', { cookie: adminC, body: { name: 'CRM', role: 'admin' } })).status, 409);

  // the secret is shown once: the list has no token and no hash
  const list = (await call(s, 'GET', '/api/admin/tokens', { cookie: adminC })).json.tokens;
  assert.deepEqual(list.map((t) => [t.name, t.role, t.state]),
    [['CRM', 'admin', 'active'], ['Wallboard', 'supervisor', 'active'], ['Bot', 'agent', 'active'], ['Brief', 'admin', 'active']]);
  assert.ok(!JSON.stringify(list).includes(crm.token.slice(4)));
  assert.ok(list.every((t) => !('token' in t) && !('hash' in t)));

  // the same authorization checks as a session of that role
  assert.equal((await call(s, 'GET', '/api/admin/queues', { token: crm.token })).status, 200);
  assert.equal((await call(s, 'GET', '/api/admin/queues', { token: wall.token })).status, 403);
  assert.equal((await call(s, 'GET', '/api/supervisor/overview', { token: wall.token })).status, 200);
  assert.equal((await call(s, 'GET', '/api/supervisor/overview', { token: bot.token })).status, 403);
  assert.equal((await call(s, 'GET', '/api/lists', { token: bot.token })).status, 200);
  assert.equal((await call(s, 'GET', '/api/lists', { token: crm.token })).status, 401); // no agent
  const me = await call(s, 'GET', '/api/me', { token: wall.token });
  assert.equal(me.status, 200);
  assert.equal(me.json.username, 'token:Wallboard');
  let r = await call(s, 'PUT', '/api/admin/teams/9', { token: crm.token, body: { name: 'Natt' } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((await call(s, 'POST', '/api/logout', { token: bot.token })).json.error, 'token_not_session');

  // a token beats a cookie: a bad token is refused even with a good session
  r = await call(s, 'GET', '/api/admin/queues', { cookie: adminC, token: 'tdt_forged' });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'bad_token');
  for (const auth of ['Basic YWRtaW46ZGVtby1hZG1pbg==', 'Bearer', 'Bearer  ', `Bearer ${crm.token.slice(4)}`, `Bearer ${'x'.repeat(900)}`]) {
    r = await call(s, 'GET', '/api/admin/queues', { headers: { authorization: auth } });
    assert.equal(r.status, 401, auth);
    assert.equal(r.json.error, 'bad_token');
    assert.match(r.json.message, /Bearer tdt_/);
  }
  r = await call(s, 'GET', '/api/admin/queues', { token: crm.token.slice(0, -1) + (crm.token.endsWith('A') ? 'B' : 'A') });
  assert.equal(r.json.error, 'bad_token');
  assert.match(r.json.message, /unknown API token/);

  // expiry
  await new Promise((res) => setTimeout(res, 1700));
  r = await call(s, 'GET', '/api/admin/queues', { token: brief.token });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'token_expired');
  assert.match(r.json.message, /"Brief" expired/);

  // the WebSocket opens what a session of the role opens: the agent
  // desktop only for an agent token (as its agent), the supervisors' live
  // feed for the others; a bad token nothing
  assert.equal((await wsOpen(s, { authorization: `Bearer ${wall.token}` })).type, 'overview');
  assert.equal((await wsOpen(s, { authorization: `Bearer ${crm.token}` })).type, 'overview');
  assert.equal((await wsOpen(s, { authorization: `Bearer ${brief.token}` })).status, 401);
  assert.equal((await wsOpen(s, { authorization: 'Bearer tdt_nope' })).status, 401);
  const w = await wsOpen(s, { authorization: `Bearer ${bot.token}` });
  assert.equal(w.type, 'snapshot', JSON.stringify(w));
  assert.equal(w.snapshot.me.id, anna.id);

  // revocation: at once, once
  r = await call(s, 'DELETE', `/api/admin/tokens/${bot.id}`, { token: crm.token });
  assert.equal(r.status, 200);
  assert.equal(r.json.state, 'revoked');
  assert.equal((await call(s, 'DELETE', `/api/admin/tokens/${bot.id}`, { cookie: adminC })).status, 409);
  assert.equal((await call(s, 'DELETE', '/api/admin/tokens/4242', { cookie: adminC })).status, 404);
  assert.equal((await call(s, 'DELETE', '/api/admin/tokens/abc', { cookie: adminC })).status, 404);
  r = await call(s, 'GET', '/api/lists', { token: bot.token });
  assert.equal(r.json.error, 'token_revoked');
  assert.equal((await wsOpen(s, { authorization: `Bearer ${bot.token}` })).status, 401);

  // tokens survive a restart, revocations too
  assert.equal((await s.stop()).code, 0, s.output);
  await server.start();
  assert.equal((await call(s, 'GET', '/api/admin/queues', { token: crm.token })).status, 200);
  assert.equal((await call(s, 'GET', '/api/lists', { token: bot.token })).json.error, 'token_revoked');
  const states = (await call(s, 'GET', '/api/admin/tokens', { token: crm.token })).json.tokens.map((t) => `${t.name}:${t.state}`);
  assert.deepEqual(states, ['CRM:active', 'Wallboard:active', 'Bot:revoked', 'Brief:expired']);
  assert.ok(!s.output.includes(crm.token), 'no token in the logs');
  // the audit trail names the tokens' writes and the agent token's desktop
  const audit = (await call(s, 'GET', '/api/admin/audit?action=', { token: crm.token })).json.entries;
  const byTok = audit.filter((e) => e.via === 'token').map((e) => `${e.actor} ${e.action} ${e.detail}`).reverse();
  assert.deepEqual(byTok, [
    'token:CRM PUT /api/admin/teams/9 200',
    'token:Bot POST /api/logout 400', // refused, and still a write asked with a token
    'token:Wallboard GET /ws (feed) 101',
    'token:CRM GET /ws (feed) 101',
    'token:Bot GET /ws 101',
    `token:CRM DELETE /api/admin/tokens/${bot.id} 200`,
  ]);
  assert.equal((await s.stop()).code, 0, s.output);
});

test('textdesk admin tokens: create, list, revoke', async () => {
  const server2 = new Server();
  after(() => server2.cleanup());
  const s = await server2.start();
  let r = await admin(s, ['tokens', 'create', 'Export', 'admin', '--days', '7']);
  assert.equal(r.code, 0, r.stderr);
  const made = JSON.parse(r.stdout);
  assert.match(made.token, /^tdt_/);
  r = await admin(s, ['tokens', 'create', 'Desk bot', 'agent', '--agent', '1']);
  assert.equal(r.code, 0, r.stderr);
  r = await admin(s, ['tokens', 'create', 'x', 'root']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'textdesk admin: role: agent, supervisor or admin (HTTP 400, bad_role)\n');
  r = await admin(s, ['tokens', 'list']);
  assert.ok(JSON.parse(r.stdout).tokens.some((t) => t.name === 'Export' && t.state === 'active'));
  r = await admin(s, ['tokens', 'revoke', String(made.id)]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await admin(s, ['tokens', 'revoke', String(made.id)])).code, 1);
  r = await admin(s, ['--help']);
  assert.match(r.stdout, /tokens/);
  assert.match(r.stdout, /audit/);
  r = await admin(s, ['tokens', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /create NAME ROLE/);
  assert.equal((await admin(s, ['tokens', 'frobnicate'])).code, 2);
  // the CLI with a token instead of a password
  r = await admin(s, ['list', 'queues'], { TEXTDESK_ADMIN_PASSWORD: '', TEXTDESK_TOKEN: made.token });
  assert.equal(r.code, 1); // revoked above
  assert.match(r.stderr, /revoked/);
  assert.equal((await s.stop()).code, 0, s.output);
});
