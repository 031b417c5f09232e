// The active/standby chaos soak (issue 14; docs/operations.md, "High
// availability"). Two textdesk nodes on one real PostgreSQL behind a real
// HAProxy; customers text through a real Kannel whose MO URL and delivery
// reports go through HAProxy; agents reply over the WebSocket protocol
// through HAProxy (soak.mjs's customers and agents). Round after round the
// leader is, in turn, killed -9, frozen with SIGSTOP (resumed once the
// other node leads: it must find itself deposed), cut from PostgreSQL (its
// leadership session terminated), and PostgreSQL is restarted. Each round
// measures, from the fault, the time until a probe SMS through the load
// balancer is acknowledged (the new leader serves) and until an agent's
// desktop gets its first frame again. At the end, the same proof as
// soak.mjs (every MO Kannel took stored once; every acknowledged reply at
// the carrier once, or in doubt; none twice) and the database's count of
// commits by deposed leaders (must be 0).
//
// Usage: node tests/soak/soak_ha.mjs [--rounds N] [--seed N]
//   (TEXTDESK_BIN names the binary; default build/release/textdesk)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kannel, freePort, kannelMissing } from '../peers/kannel/harness.mjs';
import { Postgres, psql } from '../e2e/lib/pg.mjs';
import { Haproxy } from '../e2e/lib/haproxy.mjs';
import { Agent, Handsets, Textdesk, proveDelivery } from './soak.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const EP = '71000';
const TOKEN = 'soak-token';
const FAULTS = ['kill', 'stop', 'terminate', 'restart'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rng(seed) {
  let s = (Math.imul(seed, 2654435761) >>> 0) || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

async function health(td) {
  try {
    const r = await fetch(`${td.url}/api/health`, { signal: AbortSignal.timeout(1000) });
    return { status: r.status, ...(await r.json()) };
  } catch { return { status: 0 }; }
}

function pct(v, p) {
  if (!v.length) return 0;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

export const deposedCommitsSql = 'SELECT coalesce(sum((SELECT coalesce(sum(c.n), 0) FROM ha_commits c'
  + ' WHERE c.epoch = e.epoch) - e.commits_at_end), 0) FROM ha_epochs e WHERE e.commits_at_end IS NOT NULL';

export async function soakHa(opts = {}) {
  const rounds = opts.rounds ?? 100;
  const seed = opts.seed ?? (Date.now() & 0xffff);
  const customers = opts.customers ?? 12;
  const log = opts.log || ((s) => process.stdout.write(`${s}\n`));
  const bin = opts.bin || process.env.TEXTDESK_BIN || path.join(repo, 'build/release/textdesk');
  const web = process.env.TEXTDESK_WEB || path.join(repo, 'web');
  const missing = kannelMissing();
  if (missing) throw new Error(missing);
  const pg = await new Postgres().start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-soak-ha-'));
  const lbPort = await freePort();
  const kannel = new Kannel({
    moMethod: 'post', httpRetry: 100000,
    moUrl: `http://127.0.0.1:${lbPort}/api/gw/kannel/kannel1/mo?from=%p&to=%P&id=%I&coding=%c&charset=%C&token=${TOKEN}`,
  });
  const lb = new Haproxy();
  const agents = Array.from({ length: 3 }, (_, i) => ({
    id: i + 1, name: `Agent ${i + 1}`, teams: [1], capacity: 1000, username: `a${i + 1}`, password: `pw-a${i + 1}`,
  }));
  const run = { rand: rng(seed), replies: [], k: new Map(), phase: 'crash', reconnects: 0, lastFrame: 0 };
  let stopLoad = false;
  const nodes = [];
  try {
    await kannel.start();
    const config = path.join(dir, 'site.json');
    writeFileSync(config, JSON.stringify({
      settings: { disconnect_grace_s: 3600 },
      teams: [{ id: 1, name: 'Support' }],
      wrapup_reasons: [{ id: 1, name: 'Löst' }],
      queues: [{ id: 1, name: 'Kundtjänst', teams: [1], rona_timeout_s: 3600 }],
      entry_points: [{ id: 1, number: EP, queue: 1, gateway: 'kannel1' }],
      agents,
      gateways: [{
        id: 'kannel1', type: 'kannel', sendsms_url: kannel.sendsmsUrl, username: kannel.user,
        password: kannel.password, dlr_url_base: `http://127.0.0.1:${lbPort}`, token: TOKEN,
      }, { id: 'sim', type: 'sim' }], // the probes' way in
      outbox: { max_attempts: 1000, backoff_ms: 200, backoff_max_ms: 2000 },
    }));
    const db = pg.createDatabase('soak_ha');
    for (const name of ['a', 'b']) {
      const td = new Textdesk(bin, web, null, await freePort(), config, db, ['--node', name]);
      td.name = name;
      nodes.push(td);
    }
    await nodes[0].start();
    for (let i = 0; (await health(nodes[0])).status !== 200; i++) {
      if (i > 600) throw new Error('node a never led');
      await sleep(100);
    }
    await nodes[1].start();
    await lb.start(nodes.map((n) => n.port), lbPort);
    run.td = { url: lb.url }; // the agents log in and connect through HAProxy
    const desks = agents.map((a) => new Agent(run, a.username, a.password));
    for (const d of desks) {
      const on = d.onEvent.bind(d);
      d.onEvent = (ev, opened) => { if (ev.type === 'snapshot') run.lastFrame = Date.now(); on(ev, opened); };
    }
    await Promise.all(desks.map((d) => d.connect()));
    const phones = new Handsets(kannel.ports.FAKE_MO_PORT);
    await phones.open();
    const numbers = Array.from({ length: customers }, (_, i) => `+46701${String(i).padStart(6, '0')}`);
    const moLoop = (async () => {
      let seq = 0;
      while (!stopLoad) {
        seq++;
        await phones.send(numbers[Math.floor(run.rand() * numbers.length)], `M${seq} hej`);
        await sleep(40 + run.rand() * 80);
      }
    })();
    const agentLoops = desks.map(async (d) => {
      while (!stopLoad) {
        await d.step();
        await sleep(60 + run.rand() * 120);
      }
    });

    const serve = []; const frame = []; const byFault = {};
    const t0 = Date.now();
    for (let i = 0; i < rounds; i++) {
      const f = FAULTS[i % FAULTS.length];
      // a leader and a warm standby first
      let leader;
      for (let w = 0; ; w++) {
        const hs = await Promise.all(nodes.map(health));
        const li = hs.findIndex((h) => h.status === 200);
        if (li >= 0 && hs[1 - li].role === 'standby') { leader = nodes[li]; break; }
        if (w > 600) throw new Error(`round ${i}: no leader and standby: ${JSON.stringify(hs)}`);
        await sleep(100);
      }
      await sleep(500 + run.rand() * 1500);
      const t = Date.now();
      if (f === 'kill') await leader.kill9();
      else if (f === 'stop') process.kill(leader.proc.pid, 'SIGSTOP');
      else if (f === 'terminate') psql(db, 'SELECT pg_terminate_backend(h.pid) FROM ha_nodes h JOIN leadership l ON l.node = h.node');
      else pg.ctl('restart', '-m', 'fast');
      // served again: a probe SMS through the load balancer acknowledged
      for (;;) {
        const ok = await fetch(`${lb.url}/api/sim/send`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(3000),
          body: JSON.stringify({ from: '+46709999999', to: EP, text: `P${i}`, id: `probe-${i}` }),
        }).then((r) => r.status === 200, () => false);
        if (ok) break;
        if (Date.now() - t > 60000) throw new Error(`round ${i} (${f}): not served after 60 s`);
        await sleep(20);
      }
      const ms = Date.now() - t;
      while (run.lastFrame < t && Date.now() - t < 60000) await sleep(20);
      const fms = run.lastFrame - t;
      serve.push(ms); frame.push(fms);
      (byFault[f] ||= []).push(ms);
      if (f === 'stop') process.kill(leader.proc.pid, 'SIGCONT'); // finds itself deposed
      if (f === 'kill') await leader.start();
    }
    const chaosS = (Date.now() - t0) / 1000;
    stopLoad = true;
    await moLoop;
    await Promise.all(agentLoops);
    const injected = phones.sent;
    const live = nodes.find((n) => n.proc.exitCode === null) || nodes[0];
    const pr = await proveDelivery(live, kannel, run, injected, log);
    for (const d of desks) { d.stopped = true; d.ws?.close(); }
    phones.close();
    const deposed = Number(psql(db, deposedCommitsSql).trim());
    const epoch = Number(psql(db, 'SELECT epoch FROM leadership').trim());
    const deposals = nodes.reduce((n, td) => n + td.logs.reduce((k, l) =>
      k + (l.text.match(/deposed: stopping at once/g) || []).length, 0), 0);
    const { c } = pr;
    log(`soak-ha: ${rounds} rounds (${FAULTS.join(', ')} in turn) in ${chaosS.toFixed(0)} s, seed ${seed}, epoch ${epoch}, deposed leaders restarted ${deposals}`);
    log(`soak-ha: inbound: injected ${injected}, stored once ${pr.inOnce}, twice ${pr.inTwice}, lost ${pr.inLost}`);
    log(`soak-ha: replies: acknowledged ${c.acked}, delivered once ${c.once}, in doubt ${c.doubt} (reached the SMSC ${c.doubtReached}), twice ${c.twice}, lost ${c.lost}; not acknowledged ${pr.unacked} (reached the SMSC ${pr.unackedSent}, twice ${pr.unackedTwice}); out of order ${pr.orderBad.length}`);
    log(`soak-ha: commits by a deposed leader: ${deposed}`);
    log(`ha_takeover_serve_p50: ${pct(serve, 50)} ms`);
    log(`ha_takeover_serve_p99: ${pct(serve, 99)} ms`);
    log(`ha_takeover_desktop_p50: ${pct(frame, 50)} ms`);
    log(`ha_takeover_desktop_p99: ${pct(frame, 99)} ms`);
    for (const [f, v] of Object.entries(byFault)) log(`ha_takeover_serve_${f}_p50: ${pct(v, 50)} ms (p99 ${pct(v, 99)} ms, ${v.length} rounds)`);
    nodes.forEach((td) => td.logs.forEach((l, i) => writeFileSync(path.join(dir, `node-${td.name}-${i}.log`), l.text)));
    const res = { ...pr, deposed, serve, frame, rounds };
    const bad = failuresHa(res);
    if (bad.length) log(`soak-ha: logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    return res;
  } finally {
    stopLoad = true;
    nodes.forEach((n) => { try { process.kill(n.proc.pid, 'SIGCONT'); } catch { /* gone */ } n.cleanup(); });
    lb.stop();
    await kannel.stop();
    kannel.cleanup();
    pg.stop();
  }
}

export function failuresHa(r) {
  const f = [];
  if (r.inLost) f.push(`${r.inLost} inbound SMS lost`);
  if (r.inTwice) f.push(`${r.inTwice} inbound SMS stored twice`);
  if (r.c.twice || r.unackedTwice) f.push(`${r.c.twice + r.unackedTwice} replies reached the SMSC twice`);
  if (r.c.lost) f.push(`${r.c.lost} acknowledged replies lost`);
  if (r.orderBad.length) f.push(`${r.orderBad.length} replies out of order`);
  if (r.deposed !== 0) f.push(`${r.deposed} commits by a deposed leader`);
  return f;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  const r = await soakHa({ rounds: arg('--rounds', 100), seed: arg('--seed', undefined) });
  const f = failuresHa(r);
  console.log(f.length ? `soak-ha: FAILED: ${f.join('; ')}` : 'soak-ha: PASSED');
  process.exit(f.length ? 1 : 0);
}
