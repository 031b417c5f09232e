// The relay gateway type (src/sms/gw_relay.c): a second HTTP dialect
// written only against the gateway interface, one file and one table row
// (issue 12). A small node server plays the relay: bearer token both ways,
// inbound SMS acknowledged after the commit, a reply sent with our ref, a
// delivery report by ref and a failure by the relay's message id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './lib/server.mjs';
import { startGatewaySite, stopGatewaySite } from './lib/gateway_site.mjs';

const TOKEN = 'relay-token-0123456789';
const EP = '+46700000042';
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-relay-'));
const got = [];
let relay;
let site;

function post(what, body, token = TOKEN) {
  return fetch(`${site.server.url}/api/gw/relay/rl/${what}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

before(async () => {
  const port = await freePort();
  relay = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ auth: req.headers.authorization, body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message_id: `r-${got.length}` }));
    });
  });
  await new Promise((r) => relay.listen(port, '127.0.0.1', r));
  site = await startGatewaySite(dir, {
    ep: EP,
    gateway: { id: 'rl', type: 'relay', url: `http://127.0.0.1:${port}/out`, token: TOKEN },
  });
});

after(async () => {
  await stopGatewaySite(site || {});
  if (relay) await new Promise((r) => relay.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('relay: bearer token, inbound after commit, reply with our ref, reports by ref and by id', async () => {
  const sms = { sender: '+46701239999', recipient: EP, body: 'Hej via relä', message_id: 'm-1' };
  const bad = await post('sms', sms, 'wrong-token-0000000000');
  assert.equal(bad.status, 401);
  assert.equal((await bad.json()).error, 'bad_token');
  const none = await post('sms', sms, null);
  assert.equal(none.status, 401);
  // each refusal says what the relay must do (before: the problem only)
  assert.match((await none.json()).message, /is required: send the gateway's "token"/);
  const part = await post('sms', { sender: 'x' });
  assert.equal(part.status, 400);
  assert.match((await part.json()).message, /are required: send all four as strings$/);

  const ok = await post('sms', sms);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).status, 'accepted');
  assert.equal((await (await post('sms', sms)).json()).status, 'duplicate');
  const refused = await post('sms', { ...sms, recipient: '+46700000099', message_id: 'm-2' });
  assert.equal((await refused.json()).status, 'refused'); // no such entry point: kept among the refused

  const { anna } = site;
  const offer = await anna.wait((e) => e.type === 'conversation' && e.conversation.number === sms.sender
    && e.conversation.role === 'offered', 5000);
  const conv = offer.conversation.id;
  assert.equal((await anna.cmd('accept', { conv })).ok, true);
  const t = await anna.cmd('messages', { conv });
  assert.deepEqual(t.messages.map((m) => m.text), ['Hej via relä']);

  const seq = await anna.reply(conv, 'Svar 👍');
  await anna.delivery(conv, seq, 'sent', 5000);
  const out = got.find((g) => g.body.body === 'Svar 👍');
  assert.equal(out.auth, `Bearer ${TOKEN}`);
  assert.deepEqual([out.body.sender, out.body.recipient], [EP, sms.sender]);
  const rep = await post('report', { ref: out.body.ref, state: 'delivered' });
  assert.equal(rep.status, 200);
  await anna.delivery(conv, seq, 'delivered', 5000);

  const seq2 = await anna.reply(conv, 'Ett till');
  await anna.delivery(conv, seq2, 'sent', 5000);
  const rid = `r-${got.findIndex((g) => g.body.body === 'Ett till') + 1}`;
  assert.equal((await post('report', { message_id: rid, state: 'failed', reason: 'absent subscriber' })).status, 200);
  const f = await anna.delivery(conv, seq2, 'failed', 5000);
  assert.equal(f.error, 'relay: absent subscriber');
  assert.equal((await post('report', { ref: '999999', state: 'delivered' })).status, 404);
  assert.equal((await post('report', { ref: '12x', state: 'delivered' })).status, 400);
});
