// The desktops' WebSockets are kept alive by the server's own sweep
// (src/http/http.c; lws's per-connection validity timers are off because
// they made every request walk every desktop's timer): a desktop silent
// for TEXTDESK_WS_PING_MS is pinged, one that leaves the ping unanswered
// until the next sweep is closed (and its agent disconnected), one that
// answers stays. And messages queued together, written in one send as
// separate frames, arrive whole and in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Server } from './lib/server.mjs';
import { login } from './lib/client.mjs';
import { configFile, until } from './lib/desk.mjs';

const PING_MS = 400;
let server;

before(async () => {
  server = new Server({ args: ['--config', configFile()], env: { TEXTDESK_WS_PING_MS: String(PING_MS) } });
  await server.start();
});

after(async () => {
  if (server) {
    const st = await server.stop();
    server.cleanup();
    assert.equal(st.code, 0, `textdesk exit ${JSON.stringify(st)}:\n${server.output}`);
  }
});

// Opens the agent WebSocket of 'user'; 'autoPong' false: pings go unanswered.
async function open(user, pass, autoPong) {
  const l = await login(server.url, user, pass);
  assert.equal(l.status, 200);
  const ws = new WebSocket(server.url.replace('http', 'ws') + '/ws', {
    headers: { cookie: l.cookie, origin: server.url }, autoPong,
  });
  const s = { ws, frames: [], pings: 0, closed: false };
  ws.on('message', (d) => s.frames.push(JSON.parse(d.toString())));
  ws.on('ping', () => { s.pings++; });
  ws.on('close', () => { s.closed = true; });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  await until(() => s.frames.some((f) => f.type === 'snapshot'), 8000, 'snapshot');
  return s;
}

test('a silent desktop that answers pings stays; one that does not is closed', async () => {
  const anna = await open('anna', 'demo-anna', true);
  const erik = await open('erik', 'demo-erik', false);
  // waiting bounds are generous (a loaded machine); the order of things is what is asserted
  await until(() => erik.closed, 20 * PING_MS + 10000, 'the unanswering desktop closed');
  assert.ok(erik.pings >= 1, 'the silent desktop was pinged before it was closed');
  await until(() => anna.pings >= 2, 20 * PING_MS + 10000, 'the answering desktop pinged twice');
  assert.equal(anna.closed, false, 'a desktop that answers pings is kept');
  // the kept one still works; the closed one can come back
  anna.ws.send(JSON.stringify({ id: 1, cmd: 'ping' }));
  await until(() => anna.frames.some((f) => f.type === 'result' && f.id === 1), 8000, 'result of ping');
  const again = await open('erik', 'demo-erik', true);
  assert.equal(again.closed, false);
  again.ws.close();
  anna.ws.close();
});

test('messages queued together arrive as whole frames, in order', async () => {
  const maja = await open('maja', 'demo-maja', true);
  const N = 300;
  for (let i = 1; i <= N; i++) // unknown commands answer with a longer frame (16-bit length)
    maja.ws.send(JSON.stringify(i % 3 ? { id: i, cmd: 'ping' } : { id: i, cmd: `nosuch_${'x'.repeat(150)}` }));
  await until(() => maja.frames.filter((f) => f.type === 'result').length >= N, 20000, 'every result');
  const ids = maja.frames.filter((f) => f.type === 'result').map((f) => f.id);
  assert.deepEqual(ids, Array.from({ length: N }, (_, i) => i + 1));
  maja.ws.close();
});
