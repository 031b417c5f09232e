// The gateway of an entry point is part of the entry point (issue 12): an
// entry point created or renumbered through the admin API sends its
// replies through its own gateway, not the first one configured, and
// keeps it across a restart. Two gateways: a webhook provider (a small node
// server, first in the list) and the built-in simulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, freePort } from './lib/server.mjs';
import { Desk, login, simSend, simInbox, until } from './lib/client.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-epgw-'));
const got = []; // what the webhook provider was asked to send
let provider;
let server;
let anna;
let A;

function api(url, cookie) {
  return async (method, p, body) => {
    const r = await fetch(`${url}/api/admin/${p}`, {
      method, headers: { cookie, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
}

async function connect() {
  anna = await Desk.open(server.url, 'anna', 'pw-anna');
  await anna.cmd('set_state', { state: 'available' });
  A = api(server.url, (await login(server.url, 'admin', 'pw-admin')).cookie);
}

before(async () => {
  const pport = await freePort();
  provider = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `prov-${got.length}` }));
    });
  });
  await new Promise((r) => provider.listen(pport, '127.0.0.1', r));
  const config = path.join(dir, 'site.json');
  writeFileSync(config, JSON.stringify({
    teams: [{ id: 1, name: 'Support' }],
    queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
    entry_points: [{ id: 1, number: '+46700000001', queue: 1, gateway: 'sim' }],
    agents: [{ id: 1, name: 'Anna Berg', teams: [1], capacity: 10, username: 'anna', password: 'pw-anna' }],
    admins: [{ username: 'admin', password: 'pw-admin' }],
    gateways: [
      { id: 'hook', type: 'webhook', url: `http://127.0.0.1:${pport}/send`, secret: 'provider-shared-secret-1234' },
      { id: 'sim', type: 'sim' },
    ],
  }));
  server = new Server({ args: ['--config', config] });
  await server.start();
  await connect();
});

after(async () => {
  if (anna) await anna.close();
  if (server) {
    const st = await server.stop();
    server.cleanup();
    assert.equal(st.code, 0, server.output);
  }
  if (provider) await new Promise((r) => provider.close(r));
  rmSync(dir, { recursive: true, force: true });
});

// A customer texts 'ep' through the simulator; Anna accepts and replies
// 'text'; resolves once the reply is sent (by whichever gateway).
async function replyVia(ep, customer, text) {
  assert.equal((await simSend(server.url, customer, ep, 'Hej')).status, 200);
  const offer = await anna.wait((e) => e.type === 'conversation' && e.conversation.number === customer
    && e.conversation.role === 'offered', 5000);
  const conv = offer.conversation.id;
  assert.equal((await anna.cmd('accept', { conv })).ok, true);
  const seq = await anna.reply(conv, text);
  await anna.delivery(conv, seq, 'sent', 10000);
}

test('an entry point created through the admin API sends through its own gateway', async () => {
  const bad = await A('PUT', 'entry_points/2', { id: 2, number: '+46700000002', queue: 1, gateway: 'nope' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /^gateway: is not a configured gateway/);
  const put = await A('PUT', 'entry_points/2', { id: 2, number: '+46700000002', queue: 1, gateway: 'sim' });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.gateway, 'sim');
  await replyVia('+46700000002', '+46701000002', 'Svar via simulatorn');
  assert.deepEqual((await simInbox(server.url, '+46701000002')).map((m) => m.text), ['Svar via simulatorn']);
  assert.equal(got.length, 0, 'the first gateway (webhook) got nothing');
});

test('renumbered without naming it, an entry point keeps its gateway; "" is the first gateway', async () => {
  const put = await A('PUT', 'entry_points/1', { id: 1, number: '+46700000011', queue: 1 });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.gateway, 'sim');
  await replyVia('+46700000011', '+46701000011', 'Nytt nummer, samma gateway');
  assert.deepEqual((await simInbox(server.url, '+46701000011')).map((m) => m.text), ['Nytt nummer, samma gateway']);
  assert.equal(got.length, 0);

  const reset = await A('PUT', 'entry_points/1', { id: 1, number: '+46700000011', queue: 1, gateway: '' });
  assert.equal(reset.status, 200);
  assert.equal(reset.body.gateway, undefined);
  await replyVia('+46700000011', '+46701000012', 'Via webhook');
  assert.deepEqual(got.map((g) => g.text), ['Via webhook']);
});

test('the entry point keeps its gateway across a restart (it is in the event log)', async () => {
  await anna.close();
  anna = null;
  const st = await server.stop();
  assert.equal(st.code, 0, server.output);
  await server.start();
  await connect();
  const ep = await A('GET', 'entry_points/2');
  assert.equal(ep.body.gateway, 'sim');
  await replyVia('+46700000002', '+46701000099', 'Efter omstart');
  await until(async () => (await simInbox(server.url, '+46701000099')).length === 1);
  assert.equal(got.filter((g) => g.text === 'Efter omstart').length, 0);
});
