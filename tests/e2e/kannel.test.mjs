// The Kannel gateway (issue 6) against a REAL Kannel 1.4.5: bearerbox +
// smsbox + fakesmsc (tests/peers/kannel/). MO reaches an agent (GSM text and
// UCS-2), replies reach the handset intact (Swedish, 400 characters, emoji,
// an emoji on a part boundary: textdesk sends long replies as its own parts,
// and the handset, i.e. the harness, decodes each part on its own), delivery
// reports (one per part, combined) update the bubble, and while Kannel is
// down replies queue and go out when it is back, in order, none twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './lib/server.mjs';
import { startKannelSite, stopGatewaySite } from './lib/gateway_site.mjs';
import { until } from './lib/client.mjs';
import { parsePrometheus, sample } from './lib/prometheus.mjs';
import { Kannel, kannelMissing } from '../peers/kannel/harness.mjs';

const CUSTOMER = '+46701234567';
const EP = '71000';
const TOKEN = 'kannel-test-token';
const missing = kannelMissing();

const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-kannel-e2e-'));
let kannel;
let server;
let anna;
let conv;

before(async () => {
  if (missing) return;
  ({ kannel, server, anna } = await startKannelSite(dir, { Kannel, freePort, token: TOKEN, ep: EP }));
});

after(async () => {
  await stopGatewaySite({ server, anna });
  if (kannel) { await kannel.stop(); kannel.cleanup(); }
  rmSync(dir, { recursive: true, force: true });
});

// Sends a reply; resolves with its sequence number (the bubble).
function reply(text) { return anna.reply(conv, text); }

// The database answers the event loop waited for (PostgreSQL; SQLite: 0).
async function roundTrips() {
  const r = await fetch(`${server.url}/metrics`);
  return sample(parsePrometheus(await r.text()), 'textdesk_store_round_trips_total');
}

function handsetGot(text) {
  return kannel.mtMessages().filter((m) => m.text === text);
}

test('an MO through Kannel reaches an agent', { skip: missing || false }, async () => {
  await kannel.injectMo(CUSTOMER, EP, 'Hej, jag behöver hjälp');
  const offer = await anna.offer(10000);
  assert.equal(offer.number, CUSTOMER);
  assert.equal(offer.ep_number, EP);
  conv = offer.id;
  await anna.cmd('accept', { conv });
  // a UCS-2 MO (coding 2, UTF-16BE body): Kannel's %a would corrupt it
  await kannel.injectMo(CUSTOMER, EP, 'Kostar det 5 € 😀?', 'ucs2');
  const msgs = await until(async () => {
    const t = await anna.cmd('messages', { conv });
    return t.messages.length >= 2 && t.messages;
  }, 10000);
  assert.equal(msgs[0].text, 'Hej, jag behöver hjälp');
  assert.equal(msgs[1].text, 'Kostar det 5 € 😀?');
});

test('replies reach the handset intact and delivery reports update the bubble', { skip: missing || false }, async () => {
  const short = 'Hej! Vi hjälper dig gärna. Åäö';
  const long = ('Hej! Vi har tittat på ditt ärende och återkommer så snart vi vet mer. Tack för att du väntar, '
    + 'vi är snart klara med granskningen. ').repeat(4).slice(0, 400);
  assert.equal([...long].length, 400);
  const emoji = 'Tack 😀👍 vi hörs!';
  // UCS-2, 90 UTF-16 units: two parts, and the emoji sits on units 67-68,
  // where a plain 67-unit cut would split its surrogate pair
  const boundary = `${'a'.repeat(66)}😀${'b'.repeat(22)}`;
  // what a scrape of /metrics itself reads (the webhooks' status)
  const scrape = -(await roundTrips()) + (await roundTrips());
  const trips0 = await roundTrips();
  for (const text of [short, long, emoji, boundary]) {
    const seq = await reply(text);
    const d = await anna.wait((e) => e.type === 'delivery' && e.conv === conv && e.status === 'delivered'
      && e.seq === seq, 15000);
    assert.equal(d.error, '');
    await until(() => handsetGot(text).length === 1, 10000)
      .catch((e) => { throw new Error(`${e.message}; the handset got:\n${kannel.mtOut}`); });
  }
  // the replies' commits, the sends' answers and the 7 delivery reports
  // (one per part) read nothing: the outbox knows its due list and the
  // statuses it wrote lately (app_outbox.c). Before: 6 round trips for one
  // reply and its report.
  let trips = (await roundTrips()) - trips0 - scrape;
  if (trips > 1) { // the daily retention's first run (60 s after the start) came in between?
    const t0 = await roundTrips();
    const seq = await reply('En gång till');
    await anna.delivery(conv, seq, 'delivered');
    trips = (await roundTrips()) - t0 - scrape;
  }
  if (process.env.TEXTDESK_E2E_STORE === 'postgresql') assert.ok(trips <= 1, `${trips} round trips`);
  else assert.equal(trips, 0);
  const got = kannel.mtMessages();
  const l = got.find((m) => m.text === long);
  assert.equal(l.parts, 3, 'a 400-character GSM text goes as 3 parts');
  assert.deepEqual(l.partTexts.map((p) => [...p].length), [153, 153, 94]);
  assert.equal(l.from, EP);
  assert.equal(l.to, CUSTOMER);
  assert.equal(got.find((m) => m.text === emoji).parts, 1);
  const b = got.find((m) => m.text === boundary);
  assert.deepEqual(b.partTexts, ['a'.repeat(66), `😀${'b'.repeat(22)}`], 'the emoji moves whole to part 2');
});

test('while Kannel is down replies queue, then go out in order, none twice', { skip: missing || false }, async () => {
  await kannel.stopSmsbox();
  const texts = ['Svar ett', 'Svar två', 'Svar tre'];
  for (const t of texts) await reply(t);
  // the bubble shows the retry with the gateway's error
  const q = await anna.wait((e) => e.type === 'delivery' && e.conv === conv && e.status === 'queued', 10000);
  assert.match(q.error, /kannel/);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(kannel.mtMessages().filter((m) => texts.includes(m.text)).length, 0);
  await kannel.startSmsbox();
  await until(() => kannel.mtMessages().filter((m) => texts.includes(m.text)).length === 3, 20000);
  await new Promise((r) => setTimeout(r, 1500)); // would a duplicate follow?
  const got = kannel.mtMessages().map((m) => m.text).filter((t) => texts.includes(t));
  assert.deepEqual(got, texts);
  const t = await anna.cmd('messages', { conv });
  for (const m of t.messages.filter((x) => texts.includes(x.text))) {
    await until(async () => {
      const tt = await anna.cmd('messages', { conv });
      return tt.messages.find((x) => x.seq === m.seq).status === 'delivered';
    }, 10000);
  }
});

test('a repeated MO (same Kannel id) is confirmed without a second message', { skip: missing || false }, async () => {
  const other = '+46709999999';
  const url = `${server.url}/api/gw/kannel/kannel1/mo?from=%2B46709999999&to=${EP}&id=fixed-uuid-1&coding=0&charset=UTF-8&token=${TOKEN}`;
  const post = () => fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain; charset="UTF-8"' }, body: 'En gång' });
  assert.equal((await post()).status, 200);
  assert.equal((await post()).status, 200);
  const offer = await anna.wait((e) => e.type === 'conversation' && e.conversation.number === other, 5000);
  await new Promise((r) => setTimeout(r, 300));
  const t = await anna.cmd('messages', { conv: offer.conversation.id });
  assert.equal(t.messages.length, 1);
  assert.equal(t.messages[0].text, 'En gång');
  const bad = await fetch(url.replace(TOKEN, 'wrong'), { method: 'POST', body: 'x' });
  assert.equal(bad.status, 403);
  assert.match(await bad.text(), /^bad token: the URL's token= must be this gateway's "token"/);
  // an unknown entry point: kept as refused, answered 200 so Kannel does not retry
  const orphan = await fetch(url.replace(`to=${EP}`, 'to=99999').replace('fixed-uuid-1', 'fixed-uuid-2'),
    { method: 'POST', headers: { 'content-type': 'text/plain; charset="UTF-8"' }, body: 'Fel nummer' });
  assert.equal(orphan.status, 200);
});

test('get-url: the text comes %-encoded in the query', { skip: missing || false }, async () => {
  const other = '+46708888888';
  const r = await fetch(`${server.url}/api/gw/kannel/kannel1/mo?from=%2B46708888888&to=${EP}&id=get-1`
    + `&coding=0&charset=UTF-8&token=${TOKEN}&text=Hej+d%C3%A5+1%2B1%3D2+%26+100%25`);
  assert.equal(r.status, 200);
  const offer = await anna.wait((e) => e.type === 'conversation' && e.conversation.number === other, 5000);
  const t = await anna.cmd('messages', { conv: offer.conversation.id });
  assert.equal(t.messages[0].text, 'Hej då 1+1=2 & 100%');
});

// Kannel keeps its HTTP connections alive and sends the next MO or DLR as
// soon as it has an answer; our answers have empty bodies. Each request
// must be handled once, as itself (lws 4.1 used to re-parse the previous
// request when the next one came before the answer's transaction ended).
test('requests on one keep-alive connection, each sent as soon as the answer is in', { skip: missing || false }, async () => {
  const n = 30;
  const sock = net.connect(server.port, '127.0.0.1');
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  let got = '';
  let answers = 0;
  let wake = null;
  sock.on('data', (d) => {
    got += d.toString('latin1');
    for (let at; (at = got.indexOf('\r\n\r\n')) >= 0;) { // empty bodies: headers end the answer
      assert.match(got, /^HTTP\/1\.1 200/);
      assert.match(got.slice(0, at), /content-length: 0/i);
      got = got.slice(at + 4);
      answers++;
      if (wake) wake();
    }
  });
  for (let i = 0; i < n; i++) {
    const have = answers;
    sock.write(`GET /api/gw/kannel/kannel1/mo?from=${encodeURIComponent(CUSTOMER)}&to=${EP}&id=ka-${i}&coding=0&charset=UTF-8`
      + `&token=${TOKEN}&text=Keep-alive+${i} HTTP/1.1\r\nConnection: keep-alive\r\nUser-Agent: Kannel/1.4.5\r\n`
      + `Host: 127.0.0.1:${server.port}\r\n\r\n`);
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to request ${i}`)), 5000);
      wake = () => { if (answers > have) { clearTimeout(t); resolve(); } };
      wake();
    });
  }
  sock.destroy();
  const texts = async () => (await anna.cmd('messages', { conv })).messages.map((m) => m.text)
    .filter((x) => x.startsWith('Keep-alive'));
  await until(async () => (await texts()).length >= n, 5000).catch(() => {});
  assert.deepEqual(await texts(), [...Array(n).keys()].map((i) => `Keep-alive ${i}`));
});
