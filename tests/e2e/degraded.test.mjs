// Degraded mode (issue 8: "disk full / database locked"): while the store
// refuses writes, the server refuses new work with a clear error (503 to
// the gateway, `store_unavailable` to the agent), stays responsive, and
// resumes by itself once a write succeeds; every SMS it acknowledged is
// stored exactly once, every one it refused arrives when the gateway
// sends it again, and the store passes `textdesk selfcheck --data`.
//
// (a) database locked: a sqlite3 CLI process holds BEGIN EXCLUSIVE on the
//     store file (SQLITE_BUSY past the server's short busy timeout).
// (b) disk full, without root: RLIMIT_FSIZE is lowered on the running
//     server (prlimit --pid) to just past the WAL's current size, so the
//     next commit's write(2) fails part-way with EFBIG, as a full disk's
//     fails with ENOSPC (SQLite maps the two to SQLITE_IOERR_WRITE and
//     SQLITE_FULL from the same place in its unix VFS); the server ignores
//     SIGXFSZ. "Space returns" with prlimit --fsize=unlimited.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { Server, bin } from './lib/server.mjs';
import { Desk, simSend, simInbox, until } from './lib/client.mjs';
import { parsePrometheus, sample } from './lib/prometheus.mjs';

const EP = '+46700000001';
const servers = [];
after(() => servers.forEach((s) => s.cleanup()));

async function timed(url) {
  const t0 = Date.now();
  const r = await fetch(url);
  const body = await r.text();
  return { status: r.status, body, ms: Date.now() - t0 };
}

async function storeAvailable(url) {
  const m = await timed(`${url}/metrics`);
  assert.equal(m.status, 200);
  const p = parsePrometheus(m.body);
  return { v: sample(p, 'textdesk_store_available'), failed: sample(p, 'textdesk_store_commit_failures_total'), ms: m.ms };
}

function sql(db, q) {
  return execFileSync('sqlite3', ['-readonly', db, q], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

// Customers texting through the simulator endpoint, each SMS with its own
// provider id; 'acked' are those answered 200, 'refused' those answered
// 503 (to be sent again, as a gateway does).
class Customers {
  constructor(url) { this.url = url; this.n = 0; this.acked = new Set(); this.refused = new Map(); this.bodies = []; }

  async text(prefix) {
    const id = `${prefix}-${this.n}`;
    const msg = { from: `+4670${String(this.n % 7).padStart(7, '0')}`, text: `SMS ${id}`, id };
    this.n++;
    return this.send(msg);
  }

  async send(msg) {
    const r = await simSend(this.url, msg.from, EP, msg.text, msg.id);
    if (r.status === 200) {
      assert.ok(['ok', 'duplicate'].includes(r.body.result), JSON.stringify(r.body));
      this.acked.add(msg.id);
      this.refused.delete(msg.id);
    } else {
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error, 'store_unavailable');
      assert.match(r.body.message, /cannot save changes right now/);
      this.refused.set(msg.id, msg);
      this.bodies.push(r.body);
    }
    return r.status;
  }

  async retryRefused() {
    for (const msg of [...this.refused.values()]) assert.equal(await this.send(msg), 200);
  }
}

async function setup() {
  const s = new Server();
  servers.push(s);
  await s.start();
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  const cust = new Customers(s.url);
  assert.equal(await cust.text('before'), 200);
  const offer = await anna.offer();
  assert.equal((await anna.cmd('accept', { conv: offer.id })).ok, true);
  const r = await anna.cmd('send', { conv: offer.id, text: 'Hej! Reply before' });
  assert.equal(r.ok, true);
  for (let i = 0; i < 5; i++) assert.equal(await cust.text('before'), 200);
  return { s, anna, cust, conv: offer.id, customer: offer.number };
}

// While degraded: customers are refused with 503, the agent's reply with
// store_unavailable, /metrics and /api/health answer at once.
async function whileDegraded(s, anna, cust, conv, tag) {
  const reply = await anna.cmd('send', { conv, text: `Refused reply ${tag}` });
  assert.equal(reply.ok, false, JSON.stringify(reply));
  assert.equal(reply.error, 'store_unavailable');
  assert.match(reply.message, /disk full or database locked/);
  for (let i = 0; i < 5; i++) assert.equal(await cust.text(`${tag}-during`), 503);
  const m = await storeAvailable(s.url);
  assert.equal(m.v, 0);
  assert.ok(m.failed >= 1, `failed commits counted: ${m.failed}`);
  assert.ok(m.ms < 1000, `/metrics took ${m.ms} ms while degraded`);
  const h = await timed(`${s.url}/api/health`);
  assert.equal(h.status, 503);
  assert.equal(JSON.parse(h.body).store, 'unavailable');
}

async function afterResume(s, anna, cust, conv, customer, tag) {
  await until(async () => (await storeAvailable(s.url)).v === 1, 8000);
  assert.equal((await timed(`${s.url}/api/health`)).status, 200);
  await cust.retryRefused(); // the gateway's retries: now accepted
  for (let i = 0; i < 3; i++) assert.equal(await cust.text(`${tag}-after`), 200);
  const r = await anna.cmd('send', { conv, text: `Reply after ${tag}` });
  assert.equal(r.ok, true, JSON.stringify(r));
  await until(async () => (await simInbox(s.url, customer)).some((m) => m.text === `Reply after ${tag}`), 5000);
}

async function finish(s, anna, cust, customer, tags, why) {
  const inbox = (await simInbox(s.url, customer)).map((m) => m.text);
  for (const t of tags) assert.ok(!inbox.includes(`Refused reply ${t}`), 'a refused reply was sent');
  assert.equal(inbox.filter((t) => t === 'Hej! Reply before').length, 1);
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
  const db = path.join(s.dataDir, 'textdesk.db');
  // every acknowledged SMS stored exactly once, nothing else stored
  const stored = sql(db, 'SELECT provider_id FROM messages WHERE outbound = 0 ORDER BY id;');
  assert.equal(new Set(stored).size, stored.length, 'an SMS was stored twice');
  assert.deepEqual([...stored].sort(), [...cust.acked].sort());
  assert.equal(cust.refused.size, 0);
  assert.deepEqual(sql(db, 'PRAGMA integrity_check;'), ['ok']);
  const out = execFileSync(bin, ['selfcheck', '--data', s.dataDir], { encoding: 'utf8' });
  assert.match(out, /store sound/);
  // the transitions are logged (JSON lines)
  const log = s.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const down = log.filter((l) => /store unavailable/.test(l.msg));
  assert.equal(down.length, 1, s.output); // once per outage, not per probe
  assert.match(down[0].error, why);
  assert.ok(log.some((l) => /store available again/.test(l.msg)), s.output);
}

test('database locked by another process: refuse, stay responsive, resume', async () => {
  const { s, anna, cust, conv, customer } = await setup();
  const db = path.join(s.dataDir, 'textdesk.db');
  const locker = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'pipe'] });
  let lockOut = '';
  locker.stdout.on('data', (d) => { lockOut += d; });
  locker.stderr.on('data', (d) => { lockOut += d; });
  const lockerExit = new Promise((r) => locker.on('exit', r));
  locker.stdin.write('PRAGMA busy_timeout = 10000;\nBEGIN EXCLUSIVE;\n.print locked\n');
  await until(() => lockOut.includes('locked'), 5000);

  // the first SMS under the lock is the one whose commit fails: 503
  assert.equal(await cust.text('lock-first'), 503);
  await whileDegraded(s, anna, cust, conv, 'lock');
  await new Promise((r) => setTimeout(r, 1500)); // probes fail meanwhile
  assert.equal((await storeAvailable(s.url)).v, 0);
  assert.equal(await cust.text('lock-late'), 503);

  locker.stdin.end('COMMIT;\n');
  await lockerExit;
  await afterResume(s, anna, cust, conv, customer, 'lock');
  assert.ok(cust.bodies.length >= 7);
  await finish(s, anna, cust, customer, ['lock'], /database is locked/);
});

test('disk full (RLIMIT_FSIZE): refuse, stay responsive, resume when space returns', async () => {
  const { s, anna, cust, conv, customer } = await setup();
  const wal = path.join(s.dataDir, 'textdesk.db-wal');
  // a write may go 1000 bytes past the WAL's end: the next commit's frames
  // are written in part, then the rest fails (a torn WAL frame)
  const limit = statSync(wal).size + 1000;
  execFileSync('prlimit', ['--pid', String(s.pid), `--fsize=${limit}:`]); // the soft limit only
  let first;
  for (let i = 0; i < 50 && !first; i++) if (await cust.text('full-first') === 503) first = true;
  assert.ok(first, 'no commit failed under RLIMIT_FSIZE');
  await whileDegraded(s, anna, cust, conv, 'full');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await storeAvailable(s.url)).v, 0);
  assert.ok(s.proc.exitCode === null, 'the server died');

  execFileSync('prlimit', ['--pid', String(s.pid), '--fsize=unlimited:']);
  await afterResume(s, anna, cust, conv, customer, 'full');
  await finish(s, anna, cust, customer, ['full'], /disk I\/O error|database or disk is full/);
});
