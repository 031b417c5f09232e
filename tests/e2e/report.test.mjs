// CSV export of conversations over a date range, parsed back with an RFC
// 4180 parser and checked against the flow that produced it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend } from './lib/client.mjs';

function parseCsv(text) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === '') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(field); field = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    if (ch === '"' || ch === '\n' || ch === '\r') throw new Error(`bad CSV at ${i}`);
    field += ch; i++;
  }
  if (field !== '' || row.length) throw new Error('last record lacks CRLF');
  return rows;
}

const EP = '+46700000001';
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-report-'));
const config = path.join(dir, 'site.json');
writeFileSync(config, JSON.stringify({
  teams: [{ id: 1, name: 'Support' }],
  wrapup_reasons: [{ id: 1, name: 'Löst' }, { id: 2, name: 'Återkommer, senare' }],
  queues: [{ id: 1, name: 'Kund, "VIP"', teams: [1] }],
  entry_points: [{ id: 1, number: EP, queue: 1 }],
  agents: [
    { id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna' },
    { id: 2, name: 'Erik Lund', teams: [1], username: 'erik', password: 'pw-erik' },
  ],
  admins: [{ username: 'admin', password: 'pw-admin' }],
}));
const server = new Server({ args: ['--config', config] });
after(() => server.cleanup());

test('conversations CSV over a date range', async () => {
  const s = await server.start();
  const t0 = Date.now();
  const anna = await Desk.open(s.url, 'anna', 'pw-anna');
  const erik = await Desk.open(s.url, 'erik', 'pw-erik');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46701234567', EP, 'Hej');
  const c1 = await anna.offer();
  await anna.cmd('accept', { conv: c1.id });
  await anna.cmd('send', { conv: c1.id, text: 'Hej!' });
  await erik.cmd('set_state', { state: 'available' });
  await anna.cmd('conference_invite', { conv: c1.id, agent: 2 });
  await erik.conv(c1.id, (c) => c.role === 'invited');
  await erik.cmd('conference_accept', { conv: c1.id });
  await erik.cmd('conference_exit', { conv: c1.id });
  await erik.cmd('wrapup', { conv: c1.id, reason: 1 });
  await anna.cmd('transfer', { conv: c1.id, agent: 2 });
  await erik.conv(c1.id, (c) => c.role === 'offered');
  await erik.cmd('accept', { conv: c1.id });
  await erik.cmd('end', { conv: c1.id });
  await erik.cmd('wrapup', { conv: c1.id, reason: 2 });
  await anna.cmd('wrapup', { conv: c1.id, reason: 1 });
  const out = await anna.cmd('outbound', { entry_point: 1, number: '+46709999999' });
  assert.equal(out.ok, true);
  const t1 = Date.now() + 1;

  const admin = await login(s.url, 'admin', 'pw-admin');
  const get = (q) => fetch(`${s.url}/api/admin/report/conversations.csv${q}`, { headers: { cookie: admin.cookie } });
  const r = await get(`?from=${t0}&to=${t1}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  const rows = parseCsv(await r.text());
  const [hdr, ...data] = rows;
  assert.equal(hdr.length, 18);
  assert.equal(data.length, 2);
  const rec = Object.fromEntries(hdr.map((h, i) => [h, data[0][i]]));
  assert.equal(rec.out_of_hours, '0');
  assert.equal(rec.overflowed, '0');
  assert.equal(rec.conversation, String(c1.id));
  assert.equal(rec.customer_number, '+46701234567');
  assert.equal(rec.queue, 'Kund, "VIP"');
  assert.equal(rec.direction, 'inbound');
  assert.equal(rec.agents, 'Anna Berg; Erik Lund');
  assert.equal(rec.wrapup_reasons, 'Löst; Återkommer, senare');
  assert.equal(rec.messages_in, '1');
  assert.equal(rec.messages_out, '1');
  assert.equal(rec.transfers, '1');
  assert.equal(rec.conferences, '1');
  for (const k of ['opened_at', 'first_offered_at', 'accepted_at', 'ended_at', 'wrapped_up_at'])
    assert.match(rec[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, k);
  assert.ok(rec.opened_at <= rec.accepted_at && rec.accepted_at <= rec.ended_at);
  const rec2 = Object.fromEntries(hdr.map((h, i) => [h, data[1][i]]));
  assert.equal(rec2.direction, 'outbound');
  assert.equal(rec2.ended_at, '');

  // an empty range, a bad range, and no admin
  assert.equal(parseCsv(await (await get(`?from=${t1 + 100000}&to=${t1 + 200000}`)).text()).length, 1);
  assert.equal((await get('?from=abc')).status, 400);
  assert.equal((await get(`?from=${t1}&to=${t0}`)).status, 400);
  const agentTry = await fetch(`${s.url}/api/admin/report/conversations.csv`, { headers: { cookie: anna.cookie } });
  assert.equal(agentTry.status, 403);
  await anna.close();
  await erik.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
