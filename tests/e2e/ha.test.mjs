// Active/standby (issue 14, docs/internals/ha.md): two nodes on one real
// PostgreSQL behind a real HAProxy that health-checks /api/health. The
// leader is killed -9: the standby takes over, the customer's SMS through
// the load balancer is acknowledged, the agent's desktop comes back and
// sees every message exactly once. Then the new leader is frozen
// (SIGSTOP): the other node takes over after the lease; resumed
// (SIGCONT), the frozen one finds itself deposed, answers nothing with 200
// and never commits (the database counts commits by deposed leaders: 0).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { Postgres, psql } from './lib/pg.mjs';
import { Haproxy } from './lib/haproxy.mjs';
import { Desk, simSend, until } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';

const EP = '+46700000001';
const CUST = '+46701234567';
const pg = new Postgres();
const lb = new Haproxy();
const nodes = [];
let browser;
after(async () => {
  if (browser) await browser.close();
  nodes.forEach((s) => s.cleanup());
  lb.stop();
  pg.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function health(s) {
  try {
    const r = await fetch(`${s.url}/api/health`);
    return { status: r.status, ...(await r.json()) };
  } catch { return { status: 0 }; }
}

// As a gateway does: sends until the load balancer's answer is 200
// (503 from HAProxy or a standby: try again).
async function sendAcked(text, id, ms) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await simSend(lb.url, CUST, EP, text, id);
      if (r.status === 200) return r;
    } catch { /* HAProxy's own 503 page is not JSON */ }
    if (Date.now() > end) throw new Error(`'${text}' not acknowledged in ${ms} ms`);
    await sleep(50);
  }
}

async function deskBack(ms) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await Desk.open(lb.url, 'anna', 'demo-anna');
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(50);
    }
  }
}

const deposedCommits = (url) => Number(psql(url,
  'SELECT coalesce(sum((SELECT coalesce(sum(c.n), 0) FROM ha_commits c WHERE c.epoch = e.epoch)'
  + ' - e.commits_at_end), 0) FROM ha_epochs e WHERE e.commits_at_end IS NOT NULL').trim());

async function transcriptOnce(desk, conv, texts) {
  const t = await desk.cmd('messages', { conv });
  const ins = t.messages.filter((m) => m.dir === 'in').map((m) => m.text);
  assert.deepEqual(ins, texts); // each once, in order
}

test('kill -9 and SIGSTOP of the leader: the standby takes over, nothing lost or doubled, the deposed never commits', async () => {
  const T = Date.now();
  await pg.start();
  const url = pg.createDatabase();
  const a = new Server({ storeUrl: url, args: ['--node', 'a'] });
  const b = new Server({ storeUrl: url, args: ['--node', 'b'] });
  nodes.push(a, b);
  await a.start();
  await until(async () => (await health(a)).status === 200, 20000);
  await b.start();
  const hb = await until(async () => { const h = await health(b); return h.leader ? h : null; });
  assert.deepEqual([hb.status, hb.role, hb.leader, hb.epoch], [503, 'standby', 'a', 1], a.output);
  // a standby refuses gateways and desktops: they go to the leader
  const direct = await simSend(b.url, CUST, EP, 'to the standby', 'sb-1');
  assert.equal(direct.status, 503);
  assert.equal(direct.body.error, 'standby');
  await lb.start([a.port, b.port]);
  const t = Date.now();
  await until(async () => (await fetch(`${lb.url}/api/health`)).status === 200);
  console.log(`startup ${t - T} ms`);

  let anna = await Desk.open(lb.url, 'anna', 'demo-anna');
  assert.equal((await anna.cmd('set_state', { state: 'available' })).ok, true);
  await sendAcked('m1', 'ha-1', 5000);
  const offer = await anna.offer();
  assert.equal((await anna.cmd('accept', { conv: offer.id })).ok, true);
  // the standby follows the log: a takeover replays only the tail
  await until(async () => {
    const m = await (await fetch(`${b.url}/metrics`)).text();
    return /textdesk_ha_events_behind\{node="b"\} 0/.test(m) && /textdesk_ha_leader\{node="b"\} 0/.test(m);
  });

  // kill -9 the leader
  const t0 = Date.now();
  await a.kill9();
  await sendAcked('m2', 'ha-2', 15000);
  const ackMs = Date.now() - t0;
  await anna.closed;
  anna = await deskBack(15000);
  const frameMs = Date.now() - t0;
  console.log(`ha_kill_to_inbound_acked: ${ackMs} ms`);
  console.log(`ha_kill_to_desktop_frame: ${frameMs} ms`);
  const h2 = await health(b);
  assert.deepEqual([h2.status, h2.role, h2.epoch], [200, 'leader', 2]);
  await transcriptOnce(anna, offer.id, ['m1', 'm2']);
  // the supervisor's page says which node serves
  browser = await launch();
  const sup = await agentPage(browser, `${lb.url}/supervisor`);
  await sup.fill('#login-user', 'lena');
  await sup.fill('#login-pass', 'demo-lena');
  await sup.click('#login-submit');
  await sup.locator('#node', { hasText: 'Betjänas av nod b (epok 2)' }).waitFor({ timeout: 10000 });
  await shot(sup, 'ha-01-supervisor-node-b');

  // the old leader comes back as a standby; then the leader freezes
  await a.start();
  await until(async () => (await health(a)).role === 'standby', 20000);
  const t1 = Date.now();
  process.kill(b.pid, 'SIGSTOP');
  // a request to the frozen node itself: it must never be acknowledged
  const frozen = simSend(b.url, CUST, EP, 'to the frozen', 'frozen-1').then((r) => r.status, () => 0);
  await sendAcked('m3', 'ha-3', 20000); // lease 5 s + the next try
  const freezeAckMs = Date.now() - t1;
  const anna2 = await deskBack(20000);
  console.log(`ha_freeze_to_inbound_acked: ${freezeAckMs} ms`);
  console.log(`ha_freeze_to_desktop_frame: ${Date.now() - t1} ms`);
  const h3 = await health(a);
  assert.deepEqual([h3.status, h3.role, h3.epoch], [200, 'leader', 3]);
  process.kill(b.pid, 'SIGCONT');
  assert.notEqual(await frozen, 200);
  // resumed, it finds itself deposed and starts again (same pid) as a standby
  await until(async () => (await health(b)).role === 'standby', 20000);
  assert.match(b.output, /deposed: stopping at once/);
  await transcriptOnce(anna2, offer.id, ['m1', 'm2', 'm3']);
  // the page reconnected to the new leader and says so
  await sup.locator('#node', { hasText: 'Betjänas av nod a (epok 3)' }).waitFor({ timeout: 20000 });
  await shot(sup, 'ha-02-supervisor-node-a');
  assert.deepEqual(sup.problems.filter((p) => !/503|Failed to load|WebSocket/.test(p)), []);

  // the database: every acknowledged SMS once, nothing of the refused ones,
  // no commit by a deposed leader
  const rows = psql(url, "SELECT provider_id FROM messages WHERE outbound = 0 ORDER BY id")
    .split('\n').filter(Boolean);
  assert.deepEqual(rows.map((r) => r.replace(/^[^:]*:/, '')), ['ha-1', 'ha-2', 'ha-3']);
  assert.equal(deposedCommits(url), 0);
  console.log(`ha_deposed_commits: ${deposedCommits(url)} commits`);
  anna.ws.terminate();
  anna2.ws.terminate();
});
