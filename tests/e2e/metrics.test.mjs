// GET /metrics, checked by a strict parser of the exposition format, with
// the figures following a real flow: queueing, offer, RONA, accept, end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from './lib/server.mjs';
import { Desk, simSend } from './lib/client.mjs';
import { parsePrometheus, sample } from './lib/prometheus.mjs';

const EP = '+46700000001';
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-metrics-'));
const config = path.join(dir, 'site.json');
writeFileSync(config, JSON.stringify({
  teams: [{ id: 1, name: 'Support' }],
  wrapup_reasons: [{ id: 1, name: 'Löst' }],
  queues: [{ id: 1, name: 'Kund"tjänst\\', teams: [1], rona_timeout_s: 1 }],
  entry_points: [{ id: 1, number: EP, queue: 1 }],
  agents: [
    { id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna' },
    { id: 2, name: 'Erik Lund', teams: [1], username: 'erik', password: 'pw-erik' },
  ],
}));
const server = new Server({ args: ['--config', config] });
after(() => server.cleanup());

async function metrics(url) {
  const r = await fetch(`${url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await r.text());
}

// The metrics docs/operations.md lists ("Metrics"), by name: their type.
function documented() {
  const ops = readFileSync(fileURLToPath(new URL('../../docs/operations.md', import.meta.url)), 'utf8');
  const section = ops.slice(ops.indexOf('## Metrics'), ops.indexOf('\n## ', ops.indexOf('## Metrics') + 3));
  const types = new Map();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `textdesk_'))) {
    const [names, type] = row.split('|').slice(1, 3);
    for (const n of names.match(/textdesk_[a-z_]+/g)) types.set(n, type.trim());
  }
  return types;
}

test('metrics follow a flow and obey the exposition format', async () => {
  const s = await server.start();
  const Q = { queue: 'Kund"tjänst\\' };
  let m = await metrics(s.url);
  // every metric served is documented, with its type
  const docs = documented();
  for (const [name, f] of m) assert.equal(docs.get(name), f.type, `${name} in docs/operations.md, "Metrics"`);
  assert.equal(sample(m, 'textdesk_queue_depth', Q), 0);
  assert.equal(sample(m, 'textdesk_agents', { state: 'logged_out' }), 2);
  const commits0 = sample(m, 'textdesk_store_commits_total');

  await simSend(s.url, '+46701234567', EP, 'Hej');
  await new Promise((r) => setTimeout(r, 300));
  m = await metrics(s.url);
  // the SMS was committed before it was acknowledged: one commit more at
  // least, timed; the histogram is cumulative and ends at the count
  assert.ok(sample(m, 'textdesk_store_commits_total') > commits0);
  assert.equal(sample(m, 'textdesk_store_commit_failures_total'), 0);
  const n = sample(m, 'textdesk_store_commit_seconds_count');
  assert.equal(n, sample(m, 'textdesk_store_commits_total'));
  assert.equal(sample(m, 'textdesk_store_commit_seconds_bucket', { le: '+Inf' }), n);
  let prev = 0;
  for (const le of ['0.0005', '0.001', '0.002', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '1']) {
    const v = sample(m, 'textdesk_store_commit_seconds_bucket', { le });
    assert.ok(v >= prev && v <= n, `bucket le=${le}: ${v}`);
    prev = v;
  }
  const sum = sample(m, 'textdesk_store_commit_seconds_sum');
  assert.ok(sum > 0 && sum < n, `sum ${sum} s over ${n} commits`);
  assert.equal(sample(m, 'textdesk_queue_depth', Q), 1);
  assert.ok(sample(m, 'textdesk_queue_longest_wait_seconds', Q) >= 0.2);
  assert.equal(sample(m, 'textdesk_conversations_opened_total'), 1);
  assert.equal(sample(m, 'textdesk_messages_in_total'), 1);

  const anna = await Desk.open(s.url, 'anna', 'pw-anna');
  await anna.cmd('set_state', { state: 'available' });
  await anna.offer();
  await anna.wait((e) => e.type === 'agent' && e.me.state === 'rona', 5000); // 1 s RONA
  const erik = await Desk.open(s.url, 'erik', 'pw-erik');
  await erik.cmd('set_state', { state: 'available' });
  const offer = await erik.offer();
  await erik.cmd('accept', { conv: offer.id });
  await erik.cmd('send', { conv: offer.id, text: 'Hej!' });
  await erik.wait((e) => e.type === 'delivery' && e.status === 'delivered');
  await erik.cmd('end', { conv: offer.id });
  await erik.cmd('wrapup', { conv: offer.id, reason: 1 });

  m = await metrics(s.url);
  assert.equal(sample(m, 'textdesk_queue_depth', Q), 0);
  assert.equal(sample(m, 'textdesk_offers_total'), 2);
  assert.equal(sample(m, 'textdesk_rona_total'), 1);
  assert.equal(sample(m, 'textdesk_agents', { state: 'rona' }), 1);
  assert.equal(sample(m, 'textdesk_agents', { state: 'available' }), 1);
  assert.equal(sample(m, 'textdesk_messages_out_total'), 1);
  assert.equal(sample(m, 'textdesk_gateway_results_total', { status: 'delivered' }), 1);
  assert.equal(sample(m, 'textdesk_conversations_closed_total'), 1);
  assert.equal(sample(m, 'textdesk_handle_time_seconds_count'), 1);
  assert.equal(sample(m, 'textdesk_handle_time_seconds_bucket', { le: '30' }), 1);
  assert.equal(sample(m, 'textdesk_websocket_connections'), 2);
  assert.throws(() => parsePrometheus('x_total 1\n'), /before its TYPE/); // the parser bites
  await anna.close();
  await erik.close();
  assert.equal((await s.stop()).code, 0, s.output);

  // totals come from the event log: a restart does not reset them
  const s2 = await server.start();
  m = await metrics(s2.url);
  assert.equal(sample(m, 'textdesk_conversations_opened_total'), 1);
  assert.equal(sample(m, 'textdesk_conversations_closed_total'), 1);
  assert.equal(sample(m, 'textdesk_offers_total'), 2);
  assert.equal(sample(m, 'textdesk_rona_total'), 1);
  assert.equal(sample(m, 'textdesk_messages_in_total'), 1);
  assert.equal(sample(m, 'textdesk_messages_out_total'), 1);
  assert.equal(sample(m, 'textdesk_handle_time_seconds_count'), 1);
  assert.equal(sample(m, 'textdesk_gateway_results_total', { status: 'delivered' }), 0); // not in the log
  assert.equal((await s2.stop()).code, 0, s2.output);
});
