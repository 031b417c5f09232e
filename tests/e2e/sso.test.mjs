// Single sign-on (OpenID Connect, docs/security.md) against a real OpenID
// provider on loopback (npm oidc-provider, lib/oidc.mjs): the authorization
// code flow with PKCE through the provider's own login and consent pages,
// role mapping from a group claim, logout; and what must be refused with a
// clear error and nothing stored: an unknown agent (no agent_teams to create
// it in; a supervisor is created on first sign-in), a
// wrong audience, an expired token, a bad signature (another key, a
// tampered payload), an oversize token, a replayed or foreign state. Key
// rotation: a token of a key the cached JWKS lacks fetches it again
// (rate-limited). Every sign-in is in the audit trail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, freePort } from './lib/server.mjs';
import { configFile } from './lib/desk.mjs';
import { login } from './lib/client.mjs';
import { storeQuery } from './lib/pg.mjs';
import { OidcProvider, Jar, providerLogin, makeKey, makeEcKey, signJwt, pkceChallenge } from './lib/oidc.mjs';

const users = { anna: ['td-agents'], lena: ['td-supervisors', 'staff'], admin: ['td-admins'], erik: ['td-admins'], nobody: ['td-agents'], guest: ['staff'], sven: ['td-supervisors'] };
let op, s, redirect;

before(async () => {
  s = new Server();
  s.port = await freePort();
  redirect = `http://127.0.0.1:${s.port}/sso/`;
  op = await new OidcProvider({ users, redirect }).start();
  s.args = ['--config', configFile({
    admins: [{ username: 'admin', password: 'demo-admin' }],
    supervisors: [{ username: 'lena', password: 'demo-lena' }],
    sso: {
      issuer: op.issuer, client_id: op.clientId, client_secret: op.clientSecret, redirect_url: redirect,
      role_claim: 'groups', roles: { agent: ['td-agents'], supervisor: 'td-supervisors', admin: ['td-admins'] },
      provision: true, passwords: { agent: false }, jwks_refetch_s: 3, // no agent_teams: agents must exist
    },
  })];
  await s.start();
  for (let i = 0; ; i++) { // discovery and JWKS are fetched at start, off the loop
    const r = await (await fetch(`${s.url}/api/sso`)).json();
    if (r.ready) break;
    assert.ok(i < 200, 'textdesk did not reach the provider');
    await new Promise((res) => setTimeout(res, 25));
  }
});
after(async () => {
  const { code } = await s.stop();
  await op.stop();
  assert.equal(code, 0, `textdesk's exit (sanitizers):\n${s.output.slice(-3000)}`);
  s.cleanup();
});

const json = { 'content-type': 'application/json' };

async function start(jar) {
  const r = await jar.fetch(`${s.url}/api/sso/start`, { method: 'POST', headers: json, body: '{}' });
  assert.equal(r.status, 200);
  const { url } = await r.json();
  return url;
}

async function callback(jar, body) {
  const r = await jar.fetch(`${s.url}/api/sso/callback`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

// The whole flow for 'user' (a fresh browser unless 'jar' is given).
async function sso(user, jar = new Jar()) {
  const url = await start(jar);
  const back = await providerLogin(jar, url, user, redirect);
  const r = await callback(jar, { state: back.state, code: back.code });
  return { ...r, jar, back, url };
}

const stored = () => [storeQuery(s, 'SELECT username, role, agent FROM accounts ORDER BY username').join(','),
  storeQuery(s, 'SELECT count(*) FROM sessions')[0]];

test('an agent signs in through the provider (PKCE, nonce, state), gets a session, and logs out', async () => {
  const info = await (await fetch(`${s.url}/api/sso`)).json();
  assert.deepEqual(info, { enabled: true, ready: true, passwords: { agent: false, supervisor: true, admin: true } });
  const jar = new Jar();
  const url = new URL(await start(jar));
  assert.equal(url.origin, op.issuer);
  const q = url.searchParams;
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.equal(q.get('redirect_uri'), redirect);
  assert.ok(q.get('state').length >= 43 && q.get('nonce').length >= 43 && q.get('code_challenge') !== pkceChallenge(''));
  assert.ok(jar.c.get('td_sso'), 'the state is bound to this browser');
  const back = await providerLogin(jar, url.href, 'anna', redirect);
  assert.equal(back.state, q.get('state'));
  const r = await callback(jar, { state: back.state, code: back.code });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.username, 'anna');
  assert.equal(r.json.role, 'agent');
  assert.equal(r.json.agent, 1);
  const me = await (await jar.fetch(`${s.url}/api/me`)).json();
  assert.equal(me.username, 'anna');

  // the same state again: single use
  const again = await callback(jar, { state: back.state, code: back.code });
  assert.equal(again.status, 400);
  assert.equal(again.json.error, 'sso_state_unknown');
  assert.match(again.json.message, /start again from the login page/);

  // logout ends the textdesk session
  const out = await jar.fetch(`${s.url}/api/logout`, { method: 'POST' });
  assert.equal(out.status, 200);
  assert.equal((await (await jar.fetch(`${s.url}/api/session`)).json()).logged_in, false);

  // agents' passwords are off on this site; supervisors' are not
  const pw = await login(s.url, 'anna', 'demo-anna');
  assert.equal(pw.status, 403);
  assert.equal(pw.body.error, 'password_login_off');
  assert.equal((await login(s.url, 'lena', 'demo-lena')).status, 200);
});

test('roles come from the group claim; a group that maps to no role or another role is refused', async () => {
  const lena = await sso('lena');
  assert.equal(lena.status, 200);
  assert.equal(lena.json.role, 'supervisor');
  const admin = await sso('admin');
  assert.equal(admin.status, 200);
  assert.equal(admin.json.role, 'admin');
  assert.equal((await admin.jar.fetch(`${s.url}/api/admin/settings`)).status, 200);

  const before = stored();
  const erik = await sso('erik'); // an agent account the provider calls an administrator
  assert.equal(erik.status, 403);
  assert.equal(erik.json.error, 'sso_role_mismatch');
  const guest = await sso('guest'); // no mapped group
  assert.equal(guest.status, 403);
  assert.equal(guest.json.error, 'sso_no_role');
  const nobody = await sso('nobody'); // no account, and no agent_teams to create an agent in
  assert.equal(nobody.status, 403);
  assert.equal(nobody.json.error, 'sso_unknown_user');
  assert.match(nobody.json.message, /an administrator sets it or creates the agent/);
  assert.deepEqual(stored(), before, 'refused sign-ins store no account and no session');
});

test('a supervisor new to textdesk is created on first sign-in, with the role from the claim and no agent', async () => {
  const sven = await sso('sven');
  assert.equal(sven.status, 200, JSON.stringify(sven.json));
  assert.equal(sven.json.role, 'supervisor');
  assert.deepEqual(storeQuery(s, "SELECT role, agent FROM accounts WHERE username = 'sven'"), ['1|0']);
  assert.equal((await sven.jar.fetch(`${s.url}/api/supervisor/overview`)).status, 200);
  assert.equal((await sso('sven')).status, 200, 'the second sign-in finds the account');
});

test('forged, expired, misaddressed and oversize ID tokens are refused and change nothing', async () => {
  // one provider session for all: the provider sends the code straight back
  const jar = new Jar();
  assert.equal((await sso('lena', jar)).status, 200);
  const now = Math.floor(Date.now() / 1000);
  const other = makeKey('k1'); // same key id, another key
  const cases = [
    ['wrong audience', (c) => signJwt({ ...c, aud: 'someone-else' }, op.key), 'sso_wrong_audience'],
    ['several audiences, azp another client', (c) => signJwt({ ...c, aud: [op.clientId, 'x'], azp: 'x' }, op.key), 'sso_wrong_audience'],
    ['wrong issuer', (c) => signJwt({ ...c, iss: 'http://127.0.0.1:1' }, op.key), 'sso_wrong_issuer'],
    ['expired', (c) => signJwt({ ...c, iat: now - 7200, exp: now - 3600 }, op.key), 'sso_token_expired'],
    ['wrong nonce', (c) => signJwt({ ...c, nonce: 'x'.repeat(43) }, op.key), 'sso_wrong_nonce'],
    ['signed by another key', (c) => signJwt(c, other), 'sso_bad_signature'],
    ['tampered payload', (c) => {
      const [h, , sig] = signJwt(c, op.key).split('.');
      return `${h}.${Buffer.from(JSON.stringify({ ...c, preferred_username: 'admin' })).toString('base64url')}.${sig}`;
    }, 'sso_bad_signature'],
    ['alg none', (c) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.`, 'sso_bad_token'],
    ['oversize token', (c) => signJwt({ ...c, pad: 'x'.repeat(20000) }, op.key), 'sso_token_too_large'],
    ['oversize role claim', (c) => signJwt({ ...c, groups: Array(300).fill('td-agents') }, op.key), 'sso_claim_too_large'],
  ];
  const before = stored();
  for (const [name, forge, code] of cases) {
    op.forge = forge;
    const r = await sso('lena', jar);
    op.forge = null;
    assert.equal(r.json.error, code, `${name}: ${JSON.stringify(r.json)}`);
    assert.equal(r.status, 401, name);
    assert.ok(r.json.message.length > 10, name);
  }
  // a state started in another browser (no td_sso cookie), or never issued
  const url = await start(jar);
  const back = await providerLogin(jar, url, 'lena', redirect);
  const foreign = await callback(new Jar(), { state: back.state, code: back.code });
  assert.equal(foreign.json.error, 'sso_state_foreign');
  assert.equal((await callback(jar, { state: back.state, code: back.code })).json.error, 'sso_state_unknown');
  assert.equal((await callback(jar, { state: 'x', code: 'y' })).json.error, 'sso_state_unknown');
  assert.equal((await callback(jar, { state: 5 })).status, 400);
  assert.deepEqual(stored(), before, 'nothing stored for a refused token');
});

test('key rotation to an ES256 key: a token of a new key fetches the JWKS again (rate-limited), then verifies', async () => {
  const jar = new Jar();
  assert.equal((await sso('lena', jar)).status, 200);
  const k2 = makeEcKey('k2'), k3 = makeKey('k3'); // made before: the second sign-in follows at once
  // the rate limit (jwks_refetch_s: 3 s) counts from the last fetch (at
  // start, usually long enough ago by now)
  const wait = op.jwksAt + 3100 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  op.publish = { keys: [op.key.pub, k2.pub] }; // the provider rotates to k2 (EC P-256)
  const fetches = op.jwksFetches;
  op.forge = (c) => signJwt(c, k2);
  const r = await sso('lena', jar);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(op.jwksFetches, fetches + 1);
  // a key nobody publishes, right after (one sign-in, well within 3 s):
  // no second fetch, refused
  op.forge = (c) => signJwt(c, k3);
  const r3 = await sso('lena', jar);
  op.forge = null;
  op.publish = null;
  assert.equal(r3.status, 401);
  assert.equal(r3.json.error, 'sso_unknown_key');
  assert.equal(op.jwksFetches, fetches + 1, 'rate-limited');
});

test('every sign-in, good or bad, is in the audit trail', async () => {
  const adm = await login(s.url, 'admin', 'demo-admin');
  const r = await fetch(`${s.url}/api/admin/audit?action=login&limit=1000`, { headers: { cookie: adm.cookie } });
  const sso = (await r.json()).entries.filter((e) => e.via === 'sso');
  const details = new Set(sso.map((e) => e.detail));
  for (const d of ['ok', 'sso_state_unknown', 'sso_state_foreign', 'sso_role_mismatch', 'sso_no_role', 'sso_unknown_user',
    'sso_wrong_audience', 'sso_token_expired', 'sso_bad_signature', 'sso_unknown_key'])
    assert.ok(details.has(d), `audit has ${d}`);
  assert.ok(sso.some((e) => e.actor === 'anna' && e.detail === 'ok' && e.peer === '127.0.0.1'));
  assert.ok(sso.some((e) => e.actor === 'nobody' && e.detail === 'sso_unknown_user'));
});
