// A report never stalls the event loop (issue 15): it folds a chunk of
// events per loop turn (TEXTDESK_REPORT_CHUNK, for tests: 1 event a turn
// here, so a small log spans thousands of turns). While a report is under
// way, SMS are acknowledged and offered; its answer is byte for byte the
// one folded in one go (figures and the conversations CSV); a client that leaves mid-report and a report under
// way at shutdown leave no leak (ASan's leak check at exit).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend } from './lib/client.mjs';

const EP = '+46700000001';
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-report-loop-'));
const config = path.join(dir, 'site.json');
writeFileSync(config, JSON.stringify({
  teams: [{ id: 1, name: 'Support' }],
  wrapup_reasons: [{ id: 1, name: 'Löst' }],
  queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
  entry_points: [{ id: 1, number: EP, queue: 1 }],
  agents: [{ id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna' }],
  supervisors: [{ username: 'lena', password: 'pw-lena' }],
  admins: [{ username: 'admin', password: 'pw-admin' }],
}));
const server = new Server({ args: ['--config', config], env: { TEXTDESK_REPORT_CHUNK: '1' } });
after(() => server.cleanup());

test('SMS are acknowledged and offered while a report is folded; the same answer as in one go', async () => {
  const s = await server.start();
  const t0 = Date.now();
  // a log of a few thousand events: customers text, nobody answers
  for (let b = 0; b < 10; b++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) =>
      simSend(s.url, `+4670${String(b * 100 + i).padStart(7, '0')}`, EP, 'Hej')));
  }
  const anna = await Desk.open(s.url, 'anna', 'pw-anna');
  await anna.cmd('set_state', { state: 'available' });
  const lena = await login(s.url, 'lena', 'pw-lena');
  const t1 = Date.now() + 1;
  const q = `figures.csv?from=${t0}&to=${t1}&step=hour&tz=Europe/Stockholm`;
  const get = (qq, signal) => fetch(`${s.url}/api/reports/${qq}`, { headers: { cookie: lena.cookie }, signal });
  const admin = await login(s.url, 'admin', 'pw-admin');
  const convQ = `/api/admin/report/conversations.csv?from=${t0}&to=${t1}`;
  // the conversations report is read a chunk per turn too
  const conv = fetch(`${s.url}${convQ}`, { headers: { cookie: admin.cookie } })
    .then(async (x) => ({ status: x.status, text: await x.text() }));

  // a client that goes away mid-report (most likely: a report here spans
  // thousands of turns): its job ends with nothing to answer, and frees
  // itself (the leak check at exit below)
  const ac = new AbortController();
  const gone = get(q, ac.signal).catch((e) => e.name);
  setTimeout(() => ac.abort(), 5);
  await gone;

  let done = 0;
  const report = get(q).then(async (r) => { done = Date.now(); return { status: r.status, text: await r.text() }; });
  // meanwhile: a customer's SMS is acknowledged, and offered to Anna
  const sent = await simSend(s.url, '+46709999999', EP, 'Hallå, är ni där?');
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  const acked = Date.now();
  const offer = await anna.wait((e) => e.type === 'conversation' && e.conversation.role === 'offered', 10000);
  const offered = Date.now();
  assert.ok(offer);
  const r = await report;
  const cv = await conv;
  assert.equal(cv.status, 200, cv.text);
  assert.equal(cv.text.trimEnd().split('\r\n').length, 1 + 1000, cv.text.slice(0, 500));
  console.log(`report_loop: acked +${acked - t1} ms, offered +${offered - t1} ms, report answered +${done - t1} ms`);
  assert.equal(r.status, 200, r.text);
  assert.ok(done > acked && done > offered,
    `the report (answered at +${done - t1} ms) did not hold the SMS (acked +${acked - t1}, offered +${offered - t1})`);
  const lines = r.text.trimEnd().split('\r\n');
  assert.ok(lines.length > 2, r.text);
  const offeredTotal = lines.slice(1).map((l) => l.split(','))
    .filter((c) => c[2] === 'total').reduce((n, c) => n + Number(c[5]), 0);
  assert.ok(offeredTotal >= 1000, r.text);
  // reports under way when the server stops (most likely: each spans
  // thousands of turns): answered 503 or cut; the assertion is the clean
  // exit (no leak under ASan)
  const pending = [get(q), get(q), get(q)].map((p) => p.then((x) => x.status, () => 'cut'));
  await new Promise((res) => setTimeout(res, 10));
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
  for (const p of pending) assert.ok([200, 503, 'cut'].includes(await p), String(await p));

  // the same log folded in one go (the default chunk covers it): the same bytes
  server.env = {};
  const s2 = await server.start();
  const lena2 = await login(s2.url, 'lena', 'pw-lena');
  const r2 = await fetch(`${s2.url}/api/reports/${q}`, { headers: { cookie: lena2.cookie } });
  assert.equal(r2.status, 200);
  assert.equal(await r2.text(), r.text);
  const admin2 = await login(s2.url, 'admin', 'pw-admin');
  const cv2 = await fetch(`${s2.url}${convQ}`, { headers: { cookie: admin2.cookie } });
  assert.equal(cv2.status, 200);
  assert.equal(await cv2.text(), cv.text);
  assert.equal((await s2.stop()).code, 0, s2.output);
});
