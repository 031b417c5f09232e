// The server end to end, over real HTTP and WebSocket: the real binary, a
// real SQLite file, the built-in simulator as the customer's phone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend, simInbox, until } from './lib/client.mjs';

const EP = '+46700000001';
const servers = [];
after(() => servers.forEach((s) => s.cleanup()));

async function start(opts) {
  const s = new Server(opts);
  servers.push(s);
  return s.start();
}

test('customer texts, agent accepts, replies, ends and wraps up', async () => {
  const s = await start();
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  assert.equal(anna.snapshot.protocol, 1);
  assert.equal(anna.snapshot.me.name, 'Anna Berg');
  assert.equal(anna.snapshot.me.state, 'idle'); // agents log in Idle
  assert.ok(anna.snapshot.wrapup_reasons.some((r) => r.name === 'Löst'));
  assert.equal((await anna.cmd('set_state', { state: 'available' })).ok, true);

  const sent = await simSend(s.url, '+46701234567', EP, 'Hej, jag behöver hjälp');
  assert.deepEqual(sent, { status: 200, body: { result: 'ok' } });
  const offer = await anna.offer();
  assert.equal(offer.number, '+46701234567');
  assert.equal(offer.ep_number, EP);
  assert.equal(offer.queue_name, 'Kundtjänst');
  assert.ok(offer.offer_deadline > Date.now());
  const first = await anna.wait((e) => e.type === 'message' && e.conv === offer.id);
  assert.equal(first.message.text, 'Hej, jag behöver hjälp');

  assert.equal((await anna.cmd('accept', { conv: offer.id })).ok, true);
  const mine = await anna.conv(offer.id, (c) => c.role === 'owner');
  assert.equal(mine.state, 'assigned');

  const r = await anna.cmd('send', { conv: offer.id, text: 'Hej! Vad gäller det? 😀' });
  assert.equal(r.ok, true);
  const inbox = await until(async () => {
    const m = await simInbox(s.url, '+46701234567');
    return m.length ? m : null;
  });
  assert.equal(inbox[0].text, 'Hej! Vad gäller det? 😀');
  assert.equal(inbox[0].from, EP);
  await anna.wait((e) => e.type === 'delivery' && e.conv === offer.id && e.status === 'delivered');

  const transcript = await anna.cmd('messages', { conv: offer.id });
  assert.deepEqual(transcript.messages.map((m) => [m.dir, m.text]),
    [['in', 'Hej, jag behöver hjälp'], ['out', 'Hej! Vad gäller det? 😀']]);
  assert.equal(transcript.messages[1].status, 'delivered');

  assert.equal((await anna.cmd('end', { conv: offer.id })).ok, true);
  await anna.conv(offer.id, (c) => c.role === 'wrapup' && c.wrapup_due);
  const bad = await anna.cmd('wrapup', { conv: offer.id, reason: 99 });
  assert.equal(bad.error, 'no_such_reason');
  assert.equal((await anna.cmd('wrapup', { conv: offer.id, reason: 1 })).ok, true);
  await anna.wait((e) => e.type === 'conversation_removed' && e.conv === offer.id);

  // the customer comes back: a new conversation, with the first in its history
  await simSend(s.url, '+46701234567', EP, 'Hej igen');
  const again = await anna.offer();
  assert.notEqual(again.id, offer.id);
  const h = await anna.cmd('history', { conv: again.id });
  assert.equal(h.ok, true);
  assert.equal(h.history.length, 1);
  assert.equal(h.history[0].conv, offer.id);
  assert.ok(h.history[0].closed_at >= h.history[0].opened_at);
  assert.deepEqual(h.history[0].wrapups.map((w) => [w.agent_name, w.reason_name]),
    [['Anna Berg', 'Löst']]);
  // the same over REST, and the lists
  let rr = await fetch(`${s.url}/api/history?conv=${again.id}`, { headers: { cookie: anna.cookie } });
  assert.deepEqual((await rr.json()).history.map((x) => x.conv), [offer.id]);
  rr = await fetch(`${s.url}/api/lists`, { headers: { cookie: anna.cookie } });
  assert.ok((await rr.json()).wrapup_reasons.some((w) => w.name === 'Löst'));
  const erik = await Desk.open(s.url, 'erik', 'demo-erik');
  assert.equal((await erik.cmd('history', { conv: again.id })).error, 'not_your_conversation');
  rr = await fetch(`${s.url}/api/history?conv=${again.id}`, { headers: { cookie: erik.cookie } });
  assert.equal(rr.status, 403);
  await erik.close();
  await anna.close();
  const st = await s.stop();
  assert.equal(st.code, 0, s.output); // clean shutdown, no leaks under ASan
});

test('transfer to another agent and a conference', async () => {
  const s = await start();
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  const erik = await Desk.open(s.url, 'erik', 'demo-erik');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46705555555', EP, 'Fakturafråga');
  const offer = await anna.offer();
  await anna.cmd('accept', { conv: offer.id });

  // Erik is Idle: not a valid target, not listed
  let targets = await anna.cmd('transfer_targets');
  assert.deepEqual(targets.agents, []);
  assert.equal((await anna.cmd('conference_invite', { conv: offer.id, agent: 2 })).error,
    'target_unavailable');
  await erik.cmd('set_state', { state: 'available' });
  targets = await anna.cmd('transfer_targets');
  assert.deepEqual(targets.agents.map((a) => a.name), ['Erik Lund']);
  assert.ok(targets.queues.some((q) => q.name === 'Sälj'));

  // conference: requested, then joined; Erik writes; Erik exits
  assert.equal((await anna.cmd('conference_invite', { conv: offer.id, agent: 2 })).ok, true);
  await anna.conv(offer.id, (c) => c.conference === 'requested');
  const inv = await erik.conv(offer.id, (c) => c.role === 'invited');
  assert.equal(inv.owner_name, 'Anna Berg');
  assert.equal((await erik.cmd('conference_accept', { conv: offer.id })).ok, true);
  await anna.conv(offer.id, (c) => c.conference === 'active' && c.guest_name === 'Erik Lund');
  await anna.wait((e) => e.type === 'system' && e.event === 'conference_joined');
  assert.equal((await erik.cmd('send', { conv: offer.id, text: 'Erik här' })).ok, true);
  await anna.wait((e) => e.type === 'message' && e.message.text === 'Erik här' &&
    e.message.agent_name === 'Erik Lund');
  assert.equal((await erik.cmd('end', { conv: offer.id })).error, 'not_owner');
  assert.equal((await erik.cmd('conference_exit', { conv: offer.id })).ok, true);
  await erik.conv(offer.id, (c) => c.role === 'wrapup');
  assert.equal((await erik.cmd('wrapup', { conv: offer.id, reason: 1 })).ok, true);

  // transfer to Erik: Anna owes a wrap-up, Erik gets a transfer offer
  assert.equal((await anna.cmd('transfer', { conv: offer.id, agent: 2 })).ok, true);
  await anna.conv(offer.id, (c) => c.role === 'wrapup');
  const t = await erik.conv(offer.id, (c) => c.role === 'offered');
  assert.equal(t.offer_kind, 'transfer');
  assert.equal((await erik.cmd('accept', { conv: offer.id })).ok, true);
  assert.equal((await anna.cmd('send', { conv: offer.id, text: 'x' })).error,
    'not_your_conversation');
  const history = await erik.cmd('messages', { conv: offer.id });
  // the customer's message, Erik's, and the system notes, in order
  assert.deepEqual(history.messages.map((m) => m.kind === 'message' ? m.text
    : `${m.event}:${m.agent_name}`), ['Fakturafråga', 'conference_joined:Erik Lund', 'Erik här',
    'conference_left:Erik Lund', 'transferred:Anna Berg']);
  assert.equal(history.messages[4].target_name, 'Erik Lund');
  assert.equal((await anna.cmd('wrapup', { conv: offer.id, reason: 2 })).ok, true);
  await anna.wait((e) => e.type === 'conversation_removed' && e.conv === offer.id);
  await anna.close();
  await erik.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('kill -9 mid-conversation loses nothing acknowledged', async () => {
  const s = await start();
  let anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46706666666', EP, 'Ett');
  const offer = await anna.offer();
  await anna.cmd('accept', { conv: offer.id });
  for (let i = 1; i <= 5; i++)
    assert.equal((await anna.cmd('send', { conv: offer.id, text: `Svar ${i}` })).ok, true);
  assert.deepEqual((await simSend(s.url, '+46706666666', EP, 'Två')).status, 200);
  await simSend(s.url, '+46707777777', EP, 'Köar');       // queued or offered
  await s.kill9();

  await s.start(); // same data directory and port
  anna = await Desk.open(s.url, 'anna', 'demo-anna');
  const held = anna.snapshot.conversations.find((c) => c.id === offer.id);
  assert.ok(held, 'the accepted conversation survived');
  assert.equal(held.role, 'owner');
  const t = await anna.cmd('messages', { conv: offer.id });
  assert.deepEqual(t.messages.map((m) => m.text), ['Ett', 'Svar 1', 'Svar 2', 'Svar 3', 'Svar 4', 'Svar 5', 'Två']);
  // the third customer is still waiting or offered again: never lost
  await anna.cmd('set_state', { state: 'available' });
  const again = await anna.offer(5000);
  assert.equal(again.number, '+46707777777');
  // a duplicate of an acknowledged SMS is still recognised after the restart
  const dup = await simSend(s.url, '+46706666666', EP, 'Ett', 'fixed-id-1');
  assert.equal(dup.body.result, 'ok');
  assert.equal((await simSend(s.url, '+46706666666', EP, 'Ett', 'fixed-id-1')).body.result, 'duplicate');
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('bad input gets clear errors and the server keeps running', async () => {
  const s = await start();
  // REST
  let r = await fetch(`${s.url}/api/login`, { method: 'POST', body: '{not json' });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'bad_json');
  assert.equal((await login(s.url, 'anna', 'wrong')).status, 401);
  assert.equal((await login(s.url, 'nobody', 'x')).body.error, 'bad_credentials');
  r = await fetch(`${s.url}/api/me`);
  assert.equal(r.status, 401);
  // the same question without an error for "not logged in"
  r = await fetch(`${s.url}/api/session`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { logged_in: false });
  r = await fetch(`${s.url}/api/nothing`);
  assert.equal(r.status, 404);
  r = await fetch(`${s.url}/api/sim/send`, { method: 'POST', body: 'x'.repeat(70000) });
  assert.equal(r.status, 413);
  const refused = await simSend(s.url, '+46701', '+4600000', 'till fel nummer');
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error, 'no_such_entry_point');

  const l = await login(s.url, 'anna', 'demo-anna');
  assert.match(l.setCookie, /HttpOnly/);
  assert.match(l.setCookie, /SameSite=Strict/);
  assert.match(l.setCookie, /Max-Age=43200/);

  // WebSocket without a session, and from another origin: refused
  await assert.rejects(new Desk(s.url, '').connect(), /ws refused: 401/);
  await assert.rejects(new Desk(s.url, l.cookie, { origin: 'http://evil.example' }).connect(),
    /ws refused: 403/);

  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  const erik = await Desk.open(s.url, 'erik', 'demo-erik');
  anna.raw('{broken');
  assert.equal((await anna.wait((e) => e.type === 'result' && e.error === 'bad_json')).ok, false);
  anna.raw('[1,2]');
  await anna.wait((e) => e.type === 'result' && e.error === 'bad_json');
  assert.equal((await anna.cmd('frobnicate')).error, 'unknown_command');
  assert.equal((await anna.cmd('set_state', { state: 'rona' })).error, 'illegal_state');
  assert.equal((await anna.cmd('accept', { conv: 4242 })).error, 'no_such_conversation');

  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46708888888', EP, 'Hej');
  const offer = await anna.offer();
  assert.equal((await erik.cmd('accept', { conv: offer.id })).error, 'not_offered');
  await anna.cmd('accept', { conv: offer.id });
  const long = await anna.cmd('send', { conv: offer.id, text: 'å'.repeat(1001) });
  assert.equal(long.error, 'text_too_long');
  assert.match(long.message, /at most 1000 characters/, 'says the limit');
  assert.equal((await anna.cmd('send', { conv: offer.id, text: '' })).error, 'text_empty');
  assert.equal((await anna.cmd('send', { conv: offer.id, text: 'å'.repeat(1000) })).ok, true);
  // cross-agent: Erik can neither read nor write Anna's conversation
  assert.equal((await erik.cmd('send', { conv: offer.id, text: 'x' })).error, 'not_your_conversation');
  assert.equal((await erik.cmd('messages', { conv: offer.id })).error, 'not_your_conversation');
  assert.equal((await erik.cmd('end', { conv: offer.id })).error, 'not_your_conversation');
  assert.equal(erik.events.filter((e) => e.type === 'message').length, 0);

  // an oversized frame closes only that connection (1009)
  const big = new Desk(s.url, l.cookie);
  await big.connect();
  big.raw(JSON.stringify({ cmd: 'send', conv: offer.id, text: 'x'.repeat(70000) }));
  assert.equal(await big.closed, 1009);
  // invalid UTF-8 in a text frame closes that connection too (RFC 6455)
  const bad = new Desk(s.url, l.cookie);
  await bad.connect();
  bad.ws._socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]));
  assert.ok([1002, 1007, 1006].includes(await bad.closed));

  // still running, and what was stored is still there
  const t = await anna.cmd('messages', { conv: offer.id });
  assert.equal(t.messages.length, 2);
  assert.equal(t.messages[1].text.length, 1000);
  await anna.close();
  await erik.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('logout is refused while work is held, and ends the session', async () => {
  const s = await start();
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46709999999', EP, 'Hej');
  const offer = await anna.offer();
  await anna.cmd('accept', { conv: offer.id });
  let r = await fetch(`${s.url}/api/logout`, { method: 'POST', headers: { cookie: anna.cookie } });
  assert.equal(r.status, 409);
  assert.equal((await r.json()).error, 'busy');
  await anna.cmd('end', { conv: offer.id });
  await anna.cmd('wrapup', { conv: offer.id, reason: 1 });
  r = await fetch(`${s.url}/api/session`, { headers: { cookie: anna.cookie } });
  const sess = await r.json();
  assert.equal(sess.logged_in, true);
  assert.equal(sess.username, 'anna');
  r = await fetch(`${s.url}/api/logout`, { method: 'POST', headers: { cookie: anna.cookie } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('set-cookie'), /Max-Age=0/);
  await anna.closed;
  r = await fetch(`${s.url}/api/me`, { headers: { cookie: anna.cookie } });
  assert.equal(r.status, 401);
  r = await fetch(`${s.url}/api/session`, { headers: { cookie: anna.cookie } });
  assert.deepEqual(await r.json(), { logged_in: false });
  assert.equal((await s.stop()).code, 0, s.output);
});

test('a disconnected agent keeps its conversation for the grace period, then it is re-queued with a note', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-grace-'));
  const config = path.join(dir, 'site.json');
  writeFileSync(config, JSON.stringify({
    settings: { disconnect_grace_s: 2 },
    teams: [{ id: 1, name: 'Support' }],
    wrapup_reasons: [{ id: 1, name: 'Löst' }],
    queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
    entry_points: [{ id: 1, number: EP, queue: 1 }],
    agents: [
      { id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna' },
      { id: 2, name: 'Erik Lund', teams: [1], username: 'erik', password: 'pw-erik' },
    ],
  }));
  const s = await start({ args: ['--config', config] });
  let anna = await Desk.open(s.url, 'anna', 'pw-anna');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46702222222', EP, 'Hallå');
  const offer = await anna.offer();
  await anna.cmd('accept', { conv: offer.id });
  await anna.close();
  // back within the grace period: still hers
  anna = await Desk.open(s.url, 'anna', 'pw-anna');
  assert.equal(anna.snapshot.conversations.find((c) => c.id === offer.id).role, 'owner');
  await anna.close();
  const erik = await Desk.open(s.url, 'erik', 'pw-erik');
  await erik.cmd('set_state', { state: 'available' });
  const again = await erik.offer(6000);
  assert.equal(again.id, offer.id);
  await erik.cmd('accept', { conv: offer.id });
  const t = await erik.cmd('messages', { conv: offer.id });
  const note = t.messages.find((m) => m.kind === 'system' && m.event === 'queued');
  assert.equal(note.why, 'grace');
  await erik.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('STOP opts a customer out until START; keywords are configurable', async () => {
  const s = await start();
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46704444444', EP, 'Hej');
  const offer = await anna.offer();
  await anna.cmd('accept', { conv: offer.id });
  await simSend(s.url, '+46704444444', EP, ' Stopp ');
  const c = await anna.conv(offer.id, (x) => x.opted_out === true);
  assert.equal(c.state, 'assigned');
  const r = await anna.cmd('send', { conv: offer.id, text: 'Hallå?' });
  assert.equal(r.error, 'opted_out');
  await anna.wait((e) => e.type === 'system' && e.event === 'opted_out');
  await simSend(s.url, '+46704444444', EP, 'börja');
  await anna.conv(offer.id, (x) => x.opted_out === false);
  assert.equal((await anna.cmd('send', { conv: offer.id, text: 'Välkommen tillbaka' })).ok, true);
  const t = await anna.cmd('messages', { conv: offer.id });
  assert.deepEqual(t.messages.filter((m) => m.kind === 'system').map((m) => m.event), ['opted_out', 'opted_in']);
  assert.deepEqual(t.messages.filter((m) => m.kind === 'message').map((m) => m.text),
    ['Hej', ' Stopp ', 'börja', 'Välkommen tillbaka']); // the keywords reach the agent too
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);

  // a site's own keywords replace the defaults
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-kw-'));
  const config = path.join(dir, 'site.json');
  writeFileSync(config, JSON.stringify({
    settings: { keywords: { stop: ['SLUTA'], start: ['FORTSÄTT'] } },
    teams: [{ id: 1, name: 'Support' }],
    queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
    entry_points: [{ id: 1, number: EP, queue: 1 }],
    agents: [{ id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna' }],
  }));
  const s2 = await start({ args: ['--config', config] });
  const a2 = await Desk.open(s2.url, 'anna', 'pw-anna');
  await a2.cmd('set_state', { state: 'available' });
  await simSend(s2.url, '+46705555555', EP, 'STOP');
  const o2 = await a2.offer();
  await a2.cmd('accept', { conv: o2.id });
  assert.equal((await a2.cmd('send', { conv: o2.id, text: 'x' })).ok, true); // STOP is not a keyword here
  await simSend(s2.url, '+46705555555', EP, 'sluta');
  await a2.conv(o2.id, (x) => x.opted_out === true);
  await a2.close();
  assert.equal((await s2.stop()).code, 0, s2.output);
});
