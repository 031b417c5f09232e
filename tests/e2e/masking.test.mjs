// Masking on the desktop (issue 5): with "mask sensitive customer data" on,
// no raw value reaches a desktop, in any WebSocket frame or HTTP response;
// the store keeps the original and the customer receives the agent's
// original text; switching the setting takes effect on open desktops at once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend, simInbox, until } from './lib/client.mjs';

const CUSTOMER = '+46701234567';
const EP = '+46700000001';
const RAW = [
  CUSTOMER, '46701234567', '0701234567', EP, '46700000001',
  '4111 1111 1111 1111', '4111111111111111', '4111-1111-1111-1111',
  'SE45 5000 0000 0583 9825 7466', 'SE4550000000058398257466',
  '811218-9876', '19811218-9876', '078-05-1120',
  'melissa@gmail.com', '+447966197542', '447966197542',
  '(212)555-0187', '555-0187', '(212) 555 0187', '555 0187',
];
const TEXTS = [
  'Hej, mitt kort är 4111 1111 1111 1111 och det dras dubbelt',
  'IBAN SE45 5000 0000 0583 9825 7466, personnummer 811218-9876 (19811218-9876)',
  'US SSN 078-05-1120, mejla melissa@gmail.com eller ring +447966197542, ' +
    'Call me at (212)555-0187 today or (212) 555 0187',
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-mask-'));
const config = path.join(dir, 'site.json');
writeFileSync(config, JSON.stringify({
  settings: { mask_sensitive_data: true },
  teams: [{ id: 1, name: 'Support' }],
  wrapup_reasons: [{ id: 1, name: 'Löst' }],
  queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
  entry_points: [{ id: 1, number: EP, queue: 1 }],
  agents: [
    { id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna' },
    { id: 2, name: 'Erik Lund', teams: [1], username: 'erik', password: 'pw-erik' },
  ],
  admins: [{ username: 'admin', password: 'pw-admin' }],
}));
const server = new Server({ args: ['--config', config] });
after(() => server.cleanup());

function leaks(text) {
  return RAW.filter((raw) => text.includes(raw));
}

test('no raw value reaches a desktop while masking is on', async () => {
  const s = await server.start();
  const http = [];
  const l = await login(s.url, 'anna', 'pw-anna');
  http.push(JSON.stringify(l.body));
  const me = await fetch(`${s.url}/api/me`, { headers: { cookie: l.cookie } });
  http.push(await me.text());

  const anna = await Desk.open(s.url, 'anna', 'pw-anna');
  const erik = await Desk.open(s.url, 'erik', 'pw-erik');
  await anna.cmd('set_state', { state: 'available' });
  for (const t of TEXTS) assert.equal((await simSend(s.url, CUSTOMER, EP, t)).status, 200);
  const offer = await anna.offer();
  assert.equal(offer.number, '********4567'); // popover customer number
  assert.equal(offer.ep_number, '********0001'); // popover business number
  // the simulator is the customer's handset: it shows the real business
  // numbers (and sending to them works), masking or not
  const sim = await (await fetch(`${s.url}/api/sim/entry_points`)).json();
  assert.ok(sim.entry_points.some((e) => e.number === EP), JSON.stringify(sim));
  await anna.cmd('accept', { conv: offer.id });
  const reply = 'Tack! Jag ser kortet 4111 1111 1111 1111, vi mejlar melissa@gmail.com';
  assert.equal((await anna.cmd('send', { conv: offer.id, text: reply })).ok, true);
  await anna.wait((e) => e.type === 'delivery' && e.status === 'delivered');
  const transcript = await anna.cmd('messages', { conv: offer.id });
  assert.equal(transcript.messages.length, 4);
  assert.equal(transcript.messages[0].text,
    'Hej, mitt kort är ************1111 och det dras dubbelt');
  assert.match(transcript.messages[3].text, /m\*\*\*\*\*\*@gmail\.com/);
  await erik.cmd('set_state', { state: 'available' });
  await anna.cmd('conference_invite', { conv: offer.id, agent: 2 });
  await erik.conv(offer.id, (c) => c.role === 'invited');
  await erik.cmd('conference_accept', { conv: offer.id });
  await erik.cmd('messages', { conv: offer.id });
  await anna.cmd('snapshot');
  await anna.cmd('transfer_targets');

  const all = [...anna.frames, ...erik.frames, ...http].join('\n');
  assert.ok(all.includes('************1111'));
  assert.deepEqual(leaks(all), [], 'raw values reached a desktop');

  // the customer got the agent's original words
  const inbox = await until(async () => (await simInbox(s.url, CUSTOMER)).find((m) => m.text === reply));
  assert.ok(inbox);

  // only an administrator may switch the setting
  const agentTry = await fetch(`${s.url}/api/admin/settings`, {
    method: 'PUT', headers: { cookie: l.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ mask_sensitive_data: false }),
  });
  assert.equal(agentTry.status, 403);
  assert.equal(leaks([...anna.frames].join('\n')).length, 0);

  // switched off: open desktops get a fresh snapshot at once, and the store
  // still has every original value
  const admin = await login(s.url, 'admin', 'pw-admin');
  const bad = await fetch(`${s.url}/api/admin/settings`, {
    method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ mask_sensitive_data: 'yes' }),
  });
  assert.equal(bad.status, 400);
  const before = anna.frames.length;
  let r = await fetch(`${s.url}/api/admin/settings`, {
    method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ mask_sensitive_data: false }),
  });
  assert.deepEqual(await r.json(), { mask_sensitive_data: false });
  const snap = await anna.wait((e) => e.type === 'snapshot' &&
    e.conversations.some((c) => c.number === CUSTOMER), 3000);
  assert.ok(anna.frames.length > before);
  assert.equal(snap.conversations.find((c) => c.id === offer.id).variables.customer_number, CUSTOMER);
  const raw = await anna.cmd('messages', { conv: offer.id });
  assert.equal(raw.messages[0].text, TEXTS[0]);
  assert.equal(raw.messages[3].text, reply);

  // and on again
  r = await fetch(`${s.url}/api/admin/settings`, {
    method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ mask_sensitive_data: true }),
  });
  assert.equal(r.status, 200);
  const snap2 = await anna.wait((e) => e.type === 'snapshot' &&
    e.conversations.some((c) => c.number === '********4567'));
  assert.ok(snap2);
  const masked = await anna.cmd('messages', { conv: offer.id });
  assert.deepEqual(leaks(JSON.stringify(masked)), []);
  await anna.close();
  await erik.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
