// The supervisor's API: live queue and agent figures as a queue fills and
// drains, read-only conversations masked as on the desktop, access rules.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend } from './lib/client.mjs';

const EP = '+46700000001';
const server = new Server();
after(() => server.cleanup());

test('supervisor overview follows a queue filling and draining', async () => {
  const s = await server.start();
  const lena = await login(s.url, 'lena', 'demo-lena');
  assert.equal(lena.status, 200);
  const get = async (p, cookie = lena.cookie) => {
    const r = await fetch(`${s.url}/api/supervisor/${p}`, { headers: { cookie } });
    return { status: r.status, body: await r.json() };
  };
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  assert.equal((await get('overview', anna.cookie)).status, 403);
  assert.equal((await get('overview', '')).status, 401);
  assert.equal((await get('overview', (await login(s.url, 'admin', 'demo-admin')).cookie)).status, 200);

  for (let i = 0; i < 4; i++) await simSend(s.url, `+4670555000${i}`, EP, `Kund ${i}`);
  await new Promise((r) => setTimeout(r, 200));
  let o = (await get('overview')).body;
  let q = o.queues.find((x) => x.name === 'Kundtjänst');
  assert.equal(q.waiting, 4);
  assert.ok(q.longest_wait_ms >= 150);
  assert.equal(o.conversations.length, 4);
  assert.ok(o.conversations.every((c) => c.state === 'queued'));
  assert.equal(o.agents.find((a) => a.name === 'Anna Berg').state, 'idle');

  await anna.cmd('set_state', { state: 'available' });
  const first = await anna.offer();
  await anna.cmd('accept', { conv: first.id });
  o = (await get('overview')).body;
  q = o.queues.find((x) => x.name === 'Kundtjänst');
  assert.equal(q.waiting, 1); // capacity 3: one accepted, two offered, one waits
  assert.equal(q.offered, 3);
  assert.equal(q.answered, 1);
  const a = o.agents.find((x) => x.name === 'Anna Berg');
  assert.deepEqual([a.state, a.load, a.reserved, a.capacity], ['available', 1, 2, 3]);
  assert.equal(o.conversations.find((c) => c.id === first.id).owner_name, 'Anna Berg');

  // read one conversation (read only)
  await anna.cmd('send', { conv: first.id, text: 'Hej! Mitt kort 4111 1111 1111 1111 funkar' });
  const conv = (await get(`conversations/${first.id}`)).body;
  assert.deepEqual(conv.messages.map((m) => m.text), ['Kund 0', 'Hej! Mitt kort 4111 1111 1111 1111 funkar']);
  assert.equal(conv.number, '+46705550000');
  assert.equal((await get('conversations/99999')).status, 404);
  const post = await fetch(`${s.url}/api/supervisor/overview`, { method: 'POST', headers: { cookie: lena.cookie } });
  assert.equal(post.status, 405);
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('the live feed: a supervisor\'s WebSocket gets the overview pushed as events happen', async () => {
  const s = await server.start();
  const lena = await login(s.url, 'lena', 'demo-lena');
  const feed = [];
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`, { headers: { cookie: lena.cookie, origin: s.url } });
  // the page's view, folded from the frames: an overview, then deltas of
  // what changed (queues by id; a list's rows by id, its slice's ids)
  let view = null;
  const fold = (o) => {
    if (o.type === 'overview') return structuredClone(o);
    const v = structuredClone(view);
    v.queues = v.queues.map((q) => o.queues.find((x) => x.id === q.id) || q);
    for (const k of ['agents', 'conversations']) {
      v[k] = { ...o[k], ids: o[k].ids || v[k].ids, rows: [...v[k].rows.filter((r) => !o[k].rows.some((x) => x.id === r.id)), ...o[k].rows] };
    }
    return v;
  };
  ws.on('message', (d) => {
    const o = JSON.parse(d.toString());
    // a delta's rows are rows whose content changed
    const same = (k) => (o.type === 'delta' ? o[k].rows.filter((r) => view[k].rows.some((x) => JSON.stringify(x) === JSON.stringify(r))) : []);
    const resent = [...same('agents'), ...same('conversations')];
    view = fold(o);
    feed.push({ at: Date.now(), type: o.type, resent, o: view });
  });
  const until = async (pred, ms = 3000) => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = feed.find((f) => pred(f.o));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no such push; last: ${JSON.stringify(feed.at(-1))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const kt = (o) => o.queues.find((x) => x.name === 'Kundtjänst');
  const first = await until((o) => o.type === 'overview'); // at once on connecting
  assert.deepEqual(first.o.agents.ids, first.o.agents.rows.map((r) => r.id));
  assert.equal(first.o.agents.offset, 0);
  const t0 = Date.now();
  await simSend(s.url, '+46705559999', EP, 'Hej');
  const pushed = await until((o) => kt(o).waiting >= 1);
  assert.ok(pushed.at - t0 < 1000, `pushed after ${pushed.at - t0} ms`);
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  const offer = await anna.offer();
  await anna.cmd('accept', { conv: offer.id });
  const after = await until((o) => kt(o).accepted_today >= 1 && kt(o).sl_today_pct === 100 &&
    o.conversations.rows.some((r) => r.id === offer.id && r.owner_name === 'Anna Berg'));
  assert.equal(kt(after.o).sl_threshold_s, 60);
  assert.ok(kt(after.o).offered_today >= 1);
  // after the first, deltas: only what changed (Anna's row, the queue, the
  // conversation), not every row again
  const deltas = feed.filter((f) => f.type === 'delta');
  assert.ok(deltas.length >= 1, `deltas: ${deltas.length}`);
  assert.deepEqual(deltas.flatMap((f) => f.resent), []);
  const c = after.o.conversations;
  assert.ok(c.total >= 1);
  assert.ok(after.o.agents.rows.find((r) => r.name === 'Anna Berg').load >= 1);
  // the page asks for another slice: a fresh overview of it
  ws.send(JSON.stringify({ type: 'view', agents: { offset: 1, limit: 1 } }));
  const sliced = await until((o) => o.type === 'overview' && o.agents.offset === 1);
  assert.equal(sliced.o.agents.ids.length, 1);
  assert.equal(sliced.o.agents.limit, 1);
  assert.ok(sliced.o.agents.total >= 2);
  assert.equal(sliced.o.agents.ids[0], [...first.o.agents.ids].sort((x, y) => x - y)[1]);
  // nothing happens: nothing is pushed (no polling in disguise)
  await new Promise((r) => setTimeout(r, 600));
  const n = feed.length;
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(feed.length, n);
  // an agent's session gets the agent protocol, not the feed
  assert.equal(anna.snapshot.type, 'snapshot');
  ws.close();
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('force state: a supervisor sets an agent idle or logs it out, and the agent is told', async () => {
  const fresh = new Server(); // Anna holds nothing from the tests above
  after(() => fresh.cleanup());
  const s = await fresh.start();
  const lena = await login(s.url, 'lena', 'demo-lena');
  const post = (id, body, cookie = lena.cookie) => fetch(`${s.url}/api/supervisor/agents/${id}/state`, {
    method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46705558888', EP, 'Hej');
  const offer = await anna.offer();
  await anna.cmd('accept', { conv: offer.id });

  // refused: who, what
  assert.equal((await post(1, { state: 'idle' }, anna.cookie)).status, 403);
  assert.equal((await post(99, { state: 'idle' })).status, 404);
  for (const body of [{ state: 'available' }, { state: 'rona' }, { state: 'idle', reason: 'x' },
    { state: 'idle', colour: 1 }, { state: 'idle', message: 'x'.repeat(201) }, 'nej']) {
    const r = await post(1, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.ok((await r.json()).message.length > 5);
  }
  let r = await post(1, { state: 'idle', reason: 77 });
  assert.equal(r.status, 422);
  assert.equal((await r.json()).error, 'no_such_reason');
  r = await post(1, { state: 'logged_out' });
  assert.equal(r.status, 409); // she holds a conversation
  assert.equal((await r.json()).error, 'busy');

  // idle with a reason, told who and why; her conversation stays
  const lists = await (await fetch(`${s.url}/api/supervisor/overview`, { headers: { cookie: lena.cookie } })).json();
  const lunch = lists.idle_reasons[0];
  r = await post(1, { state: 'idle', reason: lunch.id, message: 'Teammöte kl 14' });
  assert.equal(r.status, 200);
  const told = await anna.wait((e) => e.type === 'supervised');
  assert.deepEqual(told, { type: 'supervised', by: 'lena', state: 'idle', reason_name: lunch.name, message: 'Teammöte kl 14' });
  await anna.wait((e) => e.type === 'agent' && e.me.state === 'idle' && e.me.idle_reason === lunch.id);
  assert.equal((await anna.cmd('send', { conv: offer.id, text: 'Strax tillbaka' })).ok, true);

  // out, once her work is done
  await anna.cmd('end', { conv: offer.id });
  await anna.cmd('wrapup', { conv: offer.id, reason: 1 });
  r = await post(1, { state: 'logged_out', message: 'Passet är slut' });
  assert.equal(r.status, 200);
  assert.equal((await anna.wait((e) => e.type === 'supervised')).state, 'logged_out');
  await anna.wait((e) => e.type === 'agent' && e.me.state === 'logged_out');
  r = await post(1, { state: 'idle' });
  assert.equal(r.status, 422);
  assert.equal((await r.json()).error, 'not_logged_in');
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
