// Unmasked views are recorded (docs/security.md): while masking is on, a
// supervisor or administrator may read one conversation unmasked (the
// supervisor page's "Visa omaskerat"); each such view lands in the audit
// trail with who, when, from where and which conversation. Agents cannot;
// nothing else changes for anyone else. And an API token is looked up
// once per request, however many checks the request passes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, webDir } from './lib/server.mjs';
import { Desk, login, simSend } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { checkScreen } from './lib/a11y.mjs';
import { configFile, waitText } from './lib/desk.mjs';

const V = JSON.parse(readFileSync(path.join(webDir, 'supervisor', 'i18n', 'sv.json'), 'utf8'));
const EP = '+46700000001';
const CARD = '4111 1111 1111 1111';
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const get = async (s, p, cookie) => {
  const r = await fetch(`${s.url}${p}`, { headers: cookie ? { cookie } : {} });
  return { status: r.status, json: await r.json() };
};

test('unmasked views: supervisors may, agents may not; each is audited; the page shows it', async () => {
  const s = new Server({ args: ['--config', configFile({
    settings: { disconnect_grace_s: 120, mask_sensitive_data: true },
    admins: [{ username: 'admin', password: 'demo-admin' }],
    supervisors: [{ username: 'lena', password: 'demo-lena' }],
  })] });
  await s.start();
  const browser = await launch();
  cleanup.push(async () => { await browser.close(); s.cleanup(); });
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46701230000', EP, `Mitt kort ${CARD}`);
  const offer = await anna.offer(10000);
  assert.equal((await anna.cmd('accept', { conv: offer.id })).ok, true);

  const lena = (await login(s.url, 'lena', 'demo-lena')).cookie;
  const admin = (await login(s.url, 'admin', 'demo-admin')).cookie;
  const annaC = (await login(s.url, 'anna', 'demo-anna')).cookie;
  let r = await get(s, `/api/supervisor/conversations/${offer.id}`, lena);
  assert.equal(r.json.masked, true);
  assert.ok(!JSON.stringify(r.json).includes(CARD));
  assert.notEqual(r.json.number, '+46701230000');
  r = await get(s, `/api/supervisor/conversations/${offer.id}?unmasked=1`, lena);
  assert.equal(r.json.masked, false);
  assert.equal(r.json.number, '+46701230000');
  assert.equal(r.json.messages[0].text, `Mitt kort ${CARD}`);
  // the next plain view is masked again: unmasking was for that answer
  assert.equal((await get(s, `/api/supervisor/conversations/${offer.id}`, lena)).json.masked, true);
  assert.equal((await get(s, `/api/supervisor/conversations/${offer.id}?unmasked=1`, annaC)).status, 403);
  let audit = (await get(s, '/api/admin/audit?action=view%20unmasked', admin)).json.entries;
  assert.equal(audit.length, 1);
  assert.deepEqual([audit[0].actor, audit[0].target, audit[0].peer], ['lena', `conversation ${offer.id}`, '127.0.0.1']);

  // the supervisor page: masked until asked, then unmasked with a note
  const sup = await agentPage(browser, `${s.url}/supervisor`);
  await sup.locator('#login-form').waitFor();
  await sup.fill('#login-user', 'lena');
  await sup.fill('#login-pass', 'demo-lena');
  await sup.click('#login-submit');
  await sup.locator('#app').waitFor({ state: 'visible' });
  await sup.click('#conv-body .c-number button');
  await waitText(sup, '#reader-transcript .msg-in .text', /\*/);
  await waitText(sup, '#reader-unmask', V.unmask);
  await sup.focus('#reader-unmask');
  await sup.keyboard.press('Enter');
  await waitText(sup, '#reader-transcript .msg-in .text', `Mitt kort ${CARD}`);
  await waitText(sup, '#reader-title', '+46701230000');
  assert.equal(await sup.getAttribute('#reader-unmask', 'aria-pressed'), 'true');
  assert.equal(await sup.isVisible('#reader-unmasked'), true);
  await checkScreen(sup, 'supervisor unmasked (sv)');
  await shot(sup, 'supervisor-unmasked-sv');
  await sup.click('#reader-unmask');
  await waitText(sup, '#reader-transcript .msg-in .text', /\*/);
  audit = (await get(s, '/api/admin/audit?action=view%20unmasked', admin)).json.entries;
  assert.ok(audit.length >= 2 && audit.every((e) => e.target === `conversation ${offer.id}`));
  assert.deepEqual(sup.problems.filter((p) => !/status of 4\d\d/.test(p)), []);

  // masking off: every view is unmasked and no "unmasked" entry is made
  const n = audit.length;
  await fetch(`${s.url}/api/admin/settings`, { method: 'PUT', headers: { cookie: admin, 'content-type': 'application/json' }, body: JSON.stringify({ mask_sensitive_data: false }) });
  r = await get(s, `/api/supervisor/conversations/${offer.id}?unmasked=1`, lena);
  assert.equal(r.json.masked, false);
  assert.equal((await get(s, '/api/admin/audit?action=view%20unmasked', admin)).json.entries.length, n);
  anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('an API token is looked up once per request, however many checks it passes; its writes are audited', async () => {
  const s = new Server();
  await s.start();
  cleanup.push(async () => s.cleanup());
  const admin = (await login(s.url, 'admin', 'demo-admin')).cookie;
  const lookups = async () => Number((await (await fetch(`${s.url}/metrics`)).text())
    .match(/^textdesk_api_token_lookups_total (\d+)$/m)[1]);
  const mk = await fetch(`${s.url}/api/admin/tokens`, { method: 'POST', headers: { cookie: admin, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'CRM', role: 'admin' }) });
  const token = (await mk.json()).token;
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let n = await lookups();
  // a write: the bearer check, the audit's actor, the role check, the creator's name
  let r = await fetch(`${s.url}/api/admin/tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Bot', role: 'supervisor' }) });
  assert.equal(r.status, 201);
  assert.equal((await r.json()).created_by, 'token:CRM');
  assert.equal(await lookups(), n + 1);
  r = await fetch(`${s.url}/api/admin/agents`, { headers: auth });
  assert.equal(r.status, 200);
  assert.equal(await lookups(), n + 2);
  r = await fetch(`${s.url}/api/admin/agents`, { headers: { authorization: 'Bearer tdt_nosuchtoken' } });
  assert.equal(r.status, 401);
  assert.equal(await lookups(), n + 3);
  n = await lookups();
  await fetch(`${s.url}/api/admin/agents`, { headers: { cookie: admin } });
  assert.equal(await lookups(), n, 'a session costs no token lookup');
  const audit = await (await fetch(`${s.url}/api/admin/audit?actor=token:CRM`, { headers: { cookie: admin } })).json();
  assert.deepEqual(audit.entries.map((e) => [e.via, e.action, e.detail]), [['token', 'POST /api/admin/tokens', '201']]);
  assert.equal((await s.stop()).code, 0, s.output);
});
