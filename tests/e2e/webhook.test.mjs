// The generic webhook gateway (issue 6). A small node HTTP server plays the
// provider: it checks the signature of every outbound message and sends
// signed inbound messages and status callbacks. A bad signature is refused
// with 401 and nothing is stored; a repeated provider id makes no second
// message; retries give up after the budget with the provider's error on
// the bubble.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './lib/server.mjs';
import { startGatewaySite, stopGatewaySite } from './lib/gateway_site.mjs';
import { Desk, until } from './lib/client.mjs';
import { storeQuery } from './lib/pg.mjs';

const SECRET = 'provider-shared-secret-1234';
const EP = '+46700000009';
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-webhook-'));
let server;
let provider;
let anna;
const got = []; // outbound messages the provider accepted or refused
let answer = { status: 200 };
const held = [];

function sign(body, ts = Math.floor(Date.now() / 1000), secret = SECRET) {
  const mac = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
  return { 'x-textdesk-timestamp': String(ts), 'x-textdesk-signature': `sha256=${mac}` };
}

function post(what, body, { type = 'application/json', headers } = {}) {
  return fetch(`${server.url}/api/gw/webhook/hook/${what}`, {
    method: 'POST', headers: { 'content-type': type, ...(headers || sign(body)) }, body,
  });
}

before(async () => {
  const pport = await freePort();
  let n = 0;
  provider = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const want = sign(body, req.headers['x-textdesk-timestamp'])['x-textdesk-signature'];
      const rec = {
        path: req.url, body: JSON.parse(body), key: req.headers['idempotency-key'],
        signed: req.headers['x-textdesk-signature'] === want, status: answer.status,
      };
      got.push(rec);
      if (answer.hang) { held.push(res); return; } // never answers
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.status === 200 ? JSON.stringify({ id: `prov-${++n}` }) : JSON.stringify({ error: answer.error }));
    });
  });
  await new Promise((r) => provider.listen(pport, '127.0.0.1', r));
  ({ server, anna } = await startGatewaySite(dir, {
    ep: EP,
    capacity: 10,
    gateway: { id: 'hook', type: 'webhook', url: `http://127.0.0.1:${pport}/send`, secret: SECRET },
    outbox: { max_attempts: 3, backoff_ms: 100, backoff_max_ms: 200 },
  }));
});

after(async () => {
  await stopGatewaySite({ server, anna });
  for (const res of held) res.destroy();
  if (provider) await new Promise((r) => provider.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function offerFrom(number) {
  const e = await anna.wait((x) => x.type === 'conversation' && x.conversation.number === number
    && x.conversation.role === 'offered', 5000);
  await anna.cmd('accept', { conv: e.conversation.id });
  return e.conversation.id;
}

function reply(conv, text) { return anna.reply(conv, text); }

test('a bad signature is refused with 401 and nothing is stored', async () => {
  const body = JSON.stringify({ from: '+46701110000', to: EP, text: 'Falsk', id: 'evil-1' });
  const forged = await post('inbound', body, { headers: sign(body, undefined, 'not-the-secret-000') });
  assert.equal(forged.status, 401);
  const fj = await forged.json();
  assert.equal(fj.error, 'bad_signature');
  // each refusal says what the provider must do (before: the problem only)
  assert.match(fj.message, /^the signature does not match: sign with the gateway's secret/);
  const unsigned = await post('inbound', body, { headers: {} });
  assert.equal(unsigned.status, 401);
  assert.match((await unsigned.json()).message, /are required: sign every request/);
  const stale = await post('inbound', body, { headers: sign(body, Math.floor(Date.now() / 1000) - 3600) });
  assert.equal(stale.status, 401);
  assert.match((await stale.json()).message, /: sign with the current time/);
  // the same id, correctly signed, is new: nothing of the forged one was kept
  const ok = await post('inbound', body);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).result, 'ok');
  const conv = await offerFrom('+46701110000');
  const t = await anna.cmd('messages', { conv });
  assert.deepEqual(t.messages.map((m) => m.text), ['Falsk']);
});

test('signed inbound (JSON and form), idempotent on the provider id; reply signed, delivery by callback', async () => {
  const customer = '+46701234567';
  const body = JSON.stringify({ from: customer, to: EP, text: 'Hej! Behöver hjälp 😀', id: 'p-100' });
  const r1 = await post('inbound', body);
  assert.equal(r1.status, 200);
  assert.equal((await post('inbound', body)).status, 200); // provider retry
  const conv = await offerFrom(customer);
  const form = `from=${encodeURIComponent(customer)}&to=${encodeURIComponent(EP)}&text=Och+en+sak+till+%E2%82%AC&id=p-101`;
  const r2 = await post('inbound', form, { type: 'application/x-www-form-urlencoded' });
  assert.equal(r2.status, 200);
  const dup = await post('inbound', form, { type: 'application/x-www-form-urlencoded' });
  assert.equal((await dup.json()).result, 'duplicate');
  await until(async () => (await anna.cmd('messages', { conv })).messages.length === 2);
  const t = await anna.cmd('messages', { conv });
  assert.deepEqual(t.messages.map((m) => m.text), ['Hej! Behöver hjälp 😀', 'Och en sak till €']);

  const seq = await reply(conv, 'Tack, vi hjälper dig 👍');
  await anna.wait((e) => e.type === 'delivery' && e.seq === seq && e.status === 'sent', 5000);
  const out = got.find((g) => g.body.text === 'Tack, vi hjälper dig 👍');
  assert.ok(out.signed, 'outbound signature verifies');
  assert.equal(out.body.from, EP);
  assert.equal(out.body.to, customer);
  assert.equal(out.body.encoding, 'ucs2');
  assert.equal(out.key, out.body.reference, 'Idempotency-Key is our reference');
  const st = JSON.stringify({ reference: out.body.reference, status: 'delivered' });
  assert.equal((await post('status', st)).status, 200);
  await anna.wait((e) => e.type === 'delivery' && e.seq === seq && e.status === 'delivered', 5000);

  // a failure reported by the provider's own id, with its error
  const seq2 = await reply(conv, 'Ett till svar');
  await anna.wait((e) => e.type === 'delivery' && e.seq === seq2 && e.status === 'sent', 5000);
  const st2 = `id=prov-${got.length}&status=failed&error=Handset+unreachable`;
  assert.equal((await post('status', st2, { type: 'application/x-www-form-urlencoded' })).status, 200);
  const f = await anna.wait((e) => e.type === 'delivery' && e.seq === seq2 && e.status === 'failed', 5000);
  assert.equal(f.error, 'Handset unreachable');
  const unknown = JSON.stringify({ reference: '999999', status: 'delivered' });
  assert.equal((await post('status', unknown)).status, 404);
  const badsig = await post('status', st, { headers: sign(st, undefined, 'wrong-secret-00000') });
  assert.equal(badsig.status, 401);
});

test('a NUL in a provider\'s text (%00) is kept as U+FFFD on either store, refused ones too; JSON\'s \\u0000 is a 400', async () => {
  const customer = '+46701239999';
  const form = (to, text, id) => `from=${encodeURIComponent(customer)}&to=${to}&text=${text}&id=${id}`;
  const r1 = await post('inbound', form(encodeURIComponent(EP), 'A%00B', 'p-nul-1'),
    { type: 'application/x-www-form-urlencoded' });
  assert.equal(r1.status, 200);
  const conv = await offerFrom(customer);
  // JSON cannot carry it (jansson refuses \u0000): a clear 400, nothing kept
  const json = JSON.stringify({ from: customer, to: EP, text: 'C\u0000D', id: 'p-nul-2' });
  const r2 = await post('inbound', json);
  assert.equal(r2.status, 400);
  assert.equal((await r2.json()).error, 'bad_request');
  const t = await anna.cmd('messages', { conv });
  assert.deepEqual(t.messages.map((m) => m.text), ['A\uFFFDB']);
  // refused (no such entry point: a NUL in its number): kept among the refused
  const r3 = await post('inbound', form('%2B46%00', 'x%00', 'p-nul-3'),
    { type: 'application/x-www-form-urlencoded' });
  assert.equal(r3.status, 200); // the provider is told not to send it again
  assert.deepEqual(await r3.json(), { result: 'refused', error: 'no_such_entry_point' });
  assert.deepEqual(storeQuery(server, "SELECT text FROM inbound_orphans WHERE provider_id LIKE '%p-nul-3'"),
    ['x\uFFFD']);
  // the store took all of it: the server is not degraded, the next one goes through
  const r4 = await post('inbound', form(encodeURIComponent(EP), 'E', 'p-nul-4'),
    { type: 'application/x-www-form-urlencoded' });
  assert.equal(r4.status, 200);
});

test('a provider that keeps failing: retried, then FAILED with its error; order kept', async () => {
  const customer = '+46705550000';
  const body = JSON.stringify({ from: customer, to: EP, text: 'Hallå', id: 'p-200' });
  assert.equal((await post('inbound', body)).status, 200);
  const conv = await offerFrom(customer);
  answer = { status: 503, error: 'over capacity' };
  const before = got.length;
  const s1 = await reply(conv, 'Första');
  const s2 = await reply(conv, 'Andra');
  const f = await anna.wait((e) => e.type === 'delivery' && e.seq === s1 && e.status === 'failed', 10000);
  assert.match(f.error, /HTTP 503.*over capacity.*gave up after 3 attempts/);
  // the second waited for the first: its attempts come after the first's
  const tried = got.slice(before).map((g) => g.body.text);
  assert.deepEqual(tried.slice(0, 3), ['Första', 'Första', 'Första']);
  answer = { status: 200 };
  await anna.wait((e) => e.type === 'delivery' && e.seq === s2 && e.status === 'sent', 10000);
  assert.equal(got.filter((g) => g.body.text === 'Andra' && g.status === 200).length, 1);

  // a 4xx is final at once
  answer = { status: 400, error: 'invalid number' };
  const s3 = await reply(conv, 'Tredje');
  const f3 = await anna.wait((e) => e.type === 'delivery' && e.seq === s3 && e.status === 'failed', 5000);
  assert.match(f3.error, /HTTP 400.*invalid number/);
  assert.equal(got.filter((g) => g.body.text === 'Tredje').length, 1);
  answer = { status: 200 };

  // the agent's one-click resend: the same text as a new message
  const rs = await anna.cmd('resend', { conv, seq: s3 });
  assert.equal(rs.ok, true);
  await until(() => got.filter((g) => g.body.text === 'Tredje').length === 2);
  assert.equal((await anna.cmd('resend', { conv, seq: s2 })).error, 'not_resendable'); // it was sent
  const t = await anna.cmd('messages', { conv });
  const tredje = t.messages.filter((m) => m.text === 'Tredje');
  assert.deepEqual(tredje.map((m) => m.status === 'failed'), [true, false]); // the old one keeps its status
});

test('a reply being sent when the process died: "unknown", never resent, resolved by a report', async () => {
  const customer = '+46707770000';
  assert.equal((await post('inbound', JSON.stringify({ from: customer, to: EP, text: 'Hej', id: 'p-300' }))).status, 200);
  const conv = await offerFrom(customer);
  answer = { hang: true };
  const seq = await reply(conv, 'Svar under krasch');
  await until(() => got.some((g) => g.body.text === 'Svar under krasch'), 5000);
  const ref = got.find((g) => g.body.text === 'Svar under krasch').body.reference;
  await server.kill9();
  answer = { status: 200 };
  await server.start();
  assert.match(server.output, /"msg":"replies were being sent when the process stopped: delivery unknown","count":"1"/);
  anna = await Desk.open(server.url, 'anna', 'pw-anna');
  const t = await anna.cmd('messages', { conv });
  assert.equal(t.messages.find((m) => m.seq === seq).status, 'unknown');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(got.filter((g) => g.body.text === 'Svar under krasch').length, 1, 'not resent');
  assert.equal((await post('status', JSON.stringify({ reference: ref, status: 'delivered' }))).status, 200);
  await until(async () => (await anna.cmd('messages', { conv })).messages.find((m) => m.seq === seq).status === 'delivered', 5000);
});
