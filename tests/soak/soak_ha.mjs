// The active/standby chaos soak (issue 14; docs/operations.md, "High
// availability"). Two textdesk nodes on one real PostgreSQL behind a real
// HAProxy; customers text through a real Kannel whose MO URL and delivery
// reports go through HAProxy; agents reply over the WebSocket protocol
// through HAProxy (soak.mjs's customers and agents), reconnecting on the
// desktop's own schedule (web/js/backoff.js). Round after round the leader
// is, in turn, killed -9, frozen with SIGSTOP (resumed once the other node
// leads: it must find itself deposed), cut from PostgreSQL (its leadership
// session terminated), and PostgreSQL is restarted. Each round measures,
// from the fault, the time until a probe SMS through the load balancer is
// acknowledged (the new leader serves) and until every agent's desktop has
// its first frame again; p50/p99 per fault and over all. At the end, the
// same proof as soak.mjs (every MO Kannel took stored once; every
// acknowledged reply at the carrier once, or in doubt; none twice) and the
// database's count of commits by deposed leaders (must be 0).
//
// A test watches the cluster through opts.hooks (each optional, awaited),
// given ctx = {nodes, lb, pg, db, desks}: ready(ctx) once a leads and b
// stands by, before the first round; fault(ctx, f, leader) right after
// fault f hit the node that led; round(ctx, f, i, leader) after round i is
// measured, the frozen node resumed or the killed one started again.
// tests/e2e/ha.test.mjs runs it short (one round per fault) in make test.
// A failure (or SOAK_HA_KEEP=1) keeps, in the soak's folder, what it takes
// to tell why: each node's log, HAProxy's server state changes and the
// soak's own steps (timeline.log), all with the time, and PostgreSQL's log.
//
// Usage: node tests/soak/soak_ha.mjs [--rounds N] [--seed N] [--lease-ms N]
//          [--self-fence-ms N]
//        node tests/soak/soak_ha.mjs --promotions N
//   (PostgreSQL's failover instead, N rounds of tests/soak/promote.mjs:
//   p50/p99 from the primary stopped to an SMS acknowledged again)
//   (TEXTDESK_BIN names the binary; default build/release/textdesk)
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kannel, freePort, kannelMissing } from '../peers/kannel/harness.mjs';
import { Postgres, psql } from '../e2e/lib/pg.mjs';
import { Haproxy } from '../e2e/lib/haproxy.mjs';
import { Agent, Handsets, Textdesk, proveDelivery, rng, soakAgents, startLoad, writeSite } from './soak.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const EP = '71000';
const TOKEN = 'soak-token';
export const FAULTS = ['kill', 'stop', 'terminate', 'restart'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// web/js/backoff.js is a browser module (no package.json makes it ESM for
// node): imported from its text, so the soak's agents wait exactly as a
// desktop does.
const { reconnectDelay } = await import(`data:text/javascript,${encodeURIComponent(
  readFileSync(path.join(repo, 'web/js/backoff.js'), 'utf8'))}`);

async function health(td) {
  try {
    const r = await fetch(`${td.url}/api/health`, { signal: AbortSignal.timeout(1000) });
    return { status: r.status, ...(await r.json()) };
  } catch { return { status: 0 }; }
}

export function pct(v, p) {
  if (!v.length) return 0;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

// The soak's steps, with the time (timeline.log; hooks add theirs).
let timeline = [];
export function mark(what) { timeline.push(`${new Date().toISOString()} ${what}`); }

// What each node, HAProxy and PostgreSQL said, and the soak's steps, into
// 'dir' (the logs' times line up).
function keepLogs(dir, nodes, lb, pg, why) {
  nodes.forEach((td) => td.logs.forEach((l, i) => writeFileSync(path.join(dir, `node-${td.name}-${i}.log`), l.text)));
  writeFileSync(path.join(dir, 'haproxy.log'), lb.output || '');
  writeFileSync(path.join(dir, 'timeline.log'), `${[...timeline, `${new Date().toISOString()} ${why}`].join('\n')}\n`);
  try { copyFileSync(path.join(pg.dir, 'log'), path.join(dir, 'postgresql.log')); } catch { /* stopped */ }
}

export const deposedCommitsSql = 'SELECT coalesce(sum((SELECT coalesce(sum(c.n), 0) FROM ha_commits c'
  + ' WHERE c.epoch = e.epoch) - e.commits_at_end), 0) FROM ha_epochs e WHERE e.commits_at_end IS NOT NULL';

export async function soakHa(opts = {}) {
  const rounds = opts.rounds ?? 100;
  const seed = opts.seed ?? (Date.now() & 0xffff);
  const customers = opts.customers ?? 12;
  // the pause before each fault: [least, spread] ms
  const pause = opts.pauseMs ?? [500, 1500];
  // the nodes' timing (serve --lease-ms, --self-fence-ms; default theirs)
  const timing = [...(opts.leaseMs ? ['--lease-ms', String(opts.leaseMs)] : []),
    ...(opts.fenceMs ? ['--self-fence-ms', String(opts.fenceMs)] : [])];
  const log = opts.log || ((s) => process.stdout.write(`${s}\n`));
  const bin = opts.bin || process.env.TEXTDESK_BIN || path.join(repo, 'build/release/textdesk');
  const web = process.env.TEXTDESK_WEB || path.join(repo, 'web');
  const missing = kannelMissing();
  if (missing) throw new Error(missing);
  const tStart = Date.now();
  timeline = [];
  const hooks = opts.hooks || {};
  // a PostgreSQL of the caller's (opts.pg: a test's) or one of our own
  const pg = opts.pg || await new Postgres().start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-soak-ha-'));
  const lbPort = await freePort();
  const kannel = new Kannel({
    moMethod: 'post', httpRetry: 100000,
    moUrl: `http://127.0.0.1:${lbPort}/api/gw/kannel/kannel1/mo?from=%p&to=%P&id=%I&coding=%c&charset=%C&token=${TOKEN}`,
  });
  const lb = new Haproxy();
  const agents = soakAgents(3);
  const run = { rand: rng(seed), replies: [], k: new Map(), phase: 'crash', reconnects: 0 };
  run.backoff = (attempt) => reconnectDelay(attempt, run.rand);
  let load = null; let desks = []; let phones = null;
  const nodes = [];
  try {
    await kannel.start();
    // the probes' way in: the simulator
    const config = writeSite(dir, kannel, lbPort, agents, [{ id: 'sim', type: 'sim' }], opts.site);
    const db = pg.createDatabase('soak_ha');
    for (const name of ['a', 'b']) {
      const td = new Textdesk(bin, web, null, await freePort(), config, db, ['--node', name, ...timing]);
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
    // HAProxy starts with both nodes up: the standby's is down after two
    // failed checks; until then round robin sends every other request to it
    for (let ok = 0, i = 0; ok < 6; i++) {
      ok = (await health(lb)).status === 200 ? ok + 1 : 0;
      if (i > 600) throw new Error('HAProxy never settled on the leader');
      await sleep(50);
    }
    run.td = { url: lb.url }; // the agents log in and connect through HAProxy
    desks = agents.map((a) => new Agent(run, a.username, a.password));
    for (const d of desks) { // when each desktop had its last first frame
      const on = d.onEvent.bind(d);
      d.onEvent = (ev, opened) => { if (ev.type === 'snapshot') d.lastFrame = Date.now(); on(ev, opened); };
    }
    await Promise.all(desks.map((d) => d.connect()));
    phones = new Handsets(kannel.ports.FAKE_MO_PORT);
    await phones.open();
    load = startLoad(run, phones, desks, customers, { mo: [40, 80], agent: [60, 120] });
    const ctx = { nodes, lb, pg, db, desks };

    const serve = []; const frame = []; const byFault = {};
    const faults = opts.faults || FAULTS;
    let t0 = Date.now();
    for (let i = 0; i < rounds; i++) {
      const f = faults[i % faults.length];
      // a leader and a warm standby first
      const leading = async () => {
        for (let w = 0; ; w++) {
          const hs = await Promise.all(nodes.map(health));
          const li = hs.findIndex((h) => h.status === 200);
          if (li >= 0 && hs[1 - li].role === 'standby') return nodes[li];
          if (w > 600) throw new Error(`round ${i}: no leader and standby: ${JSON.stringify(hs)}`);
          await sleep(100);
        }
      };
      let leader = await leading();
      mark(`round ${i} (${f}): ${leader.name} leads`);
      if (i === 0 && hooks.ready) {
        await hooks.ready(ctx);
        t0 = Date.now();
        // the fault hits the node that leads now: the hook's own work (a
        // login: a password hashed past the self-fence on a loaded
        // machine) may have moved the lead
        leader = await leading();
        mark(`round ${i} (${f}): ready; ${leader.name} leads`);
      }
      await sleep(pause[0] + run.rand() * pause[1]);
      const t = Date.now();
      mark(`round ${i} (${f}): the fault, on ${leader.name}`);
      if (f === 'kill') await leader.kill9();
      else if (f === 'stop') process.kill(leader.proc.pid, 'SIGSTOP');
      else if (f === 'terminate') psql(db, 'SELECT pg_terminate_backend(h.pid) FROM ha_nodes h JOIN leadership l ON l.node = h.node');
      else pg.ctl('restart', '-m', 'fast');
      // awaited after the round (a failure kept until then)
      const hooked = Promise.resolve(hooks.fault?.(ctx, f, leader)).then(() => null, (e) => e);
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
      mark(`round ${i} (${f}): served after ${ms} ms`);
      // the desktops back: every agent's first frame after the fault (each
      // fault cuts them: the leader is gone or deposed)
      const back = () => desks.every((d) => d.lastFrame > t);
      while (!back() && Date.now() - t < 60000) await sleep(20);
      if (!back()) throw new Error(`round ${i} (${f}): desktops not back after 60 s`);
      const fms = Math.max(...desks.map((d) => d.lastFrame)) - t;
      serve.push(ms); frame.push(fms);
      (byFault[f] ||= { serve: [], frame: [] }).serve.push(ms);
      byFault[f].frame.push(fms);
      if (f === 'stop') process.kill(leader.proc.pid, 'SIGCONT'); // finds itself deposed
      if (f === 'kill') await leader.start();
      const failed = await hooked;
      if (failed) throw failed;
      if (hooks.round) await hooks.round(ctx, f, i, leader);
    }
    const chaosS = (Date.now() - t0) / 1000;
    await load.stop();
    const injected = phones.sent;
    const live = nodes.find((n) => n.proc.exitCode === null) || nodes[0];
    const tProof = Date.now();
    const pr = await proveDelivery(live, kannel, run, injected, log, opts.drainPollMs);
    const proofS = (Date.now() - tProof) / 1000;
    for (const d of desks) { d.stopped = true; d.ws?.close(); }
    phones.close();
    phones = null;
    const deposed = Number(psql(db, deposedCommitsSql).trim());
    const epoch = Number(psql(db, 'SELECT epoch FROM leadership').trim());
    const deposals = nodes.reduce((n, td) => n + td.logs.reduce((k, l) =>
      k + (l.text.match(/deposed: stopping at once/g) || []).length, 0), 0);
    const { c } = pr;
    log(`soak-ha: ${rounds} rounds (${faults.join(', ')} in turn) in ${chaosS.toFixed(1)} s (set up ${((t0 - tStart) / 1000).toFixed(1)} s, proof ${proofS.toFixed(1)} s), seed ${seed}, epoch ${epoch}, deposed leaders restarted ${deposals}`);
    log(`soak-ha: inbound: injected ${injected}, stored once ${pr.inOnce}, twice ${pr.inTwice}, lost ${pr.inLost}`);
    log(`soak-ha: replies: acknowledged ${c.acked}, delivered once ${c.once}, in doubt ${c.doubt} (reached the SMSC ${c.doubtReached}), twice ${c.twice}, lost ${c.lost}; not acknowledged ${pr.unacked} (reached the SMSC ${pr.unackedSent}, twice ${pr.unackedTwice}); out of order ${pr.orderBad.length}${pr.orderBad.length ? ` (${pr.orderBad.slice(0, 5).join(' ')})` : ''}`);
    log(`soak-ha: commits by a deposed leader: ${deposed}`);
    log(`soak-ha: load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min)`);
    const figure = (name, v) => {
      log(`ha_takeover_${name}_p50: ${pct(v, 50)} ms`);
      log(`ha_takeover_${name}_p99: ${pct(v, 99)} ms`);
    };
    figure('serve', serve);
    figure('desktop', frame);
    for (const [f, v] of Object.entries(byFault)) {
      log(`ha_rounds_${f}: ${v.serve.length} rounds`);
      figure(`serve_${f}`, v.serve);
      figure(`desktop_${f}`, v.frame);
    }
    const res = { ...pr, deposed, serve, frame, byFault, rounds, injected, deposals };
    const bad = failuresHa(res);
    if (bad.length || process.env.SOAK_HA_KEEP) {
      keepLogs(dir, nodes, lb, pg, bad.length ? `failed: ${bad.join('; ')}` : 'passed');
      log(`soak-ha: logs kept in ${dir}`);
    } else rmSync(dir, { recursive: true, force: true });
    return res;
  } catch (e) {
    keepLogs(dir, nodes, lb, pg, `failed: ${e?.stack || e}`);
    log(`soak-ha: failed: logs kept in ${dir}`);
    throw e;
  } finally {
    if (load) run.stopLoad = true;
    for (const d of desks) { d.stopped = true; d.ws?.terminate(); }
    phones?.close();
    nodes.forEach((n) => { try { process.kill(n.proc.pid, 'SIGCONT'); } catch { /* gone */ } n.cleanup(); });
    lb.stop();
    await kannel.stop();
    kannel.cleanup();
    if (!opts.pg) pg.stop();
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
  const promotions = arg('--promotions', 0);
  if (promotions > 0) {
    const { promotion } = await import('./promote.mjs');
    const ms = []; const bad = [];
    for (let i = 0; i < promotions; i++) {
      const p = await promotion();
      ms.push(p.ms);
      if (!p.samePids || !p.alive || p.rows.join() !== 'pr-1,pr-2' || p.deposed) bad.push(`round ${i}: ${JSON.stringify(p)}`);
      console.log(`soak-ha: promotion ${i + 1}: ${p.ms} ms (node ${p.leader})`);
    }
    console.log(`soak-ha: load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min)`);
    console.log(`ha_promotion_rounds: ${promotions} rounds`);
    console.log(`ha_takeover_serve_promotion_p50: ${pct(ms, 50)} ms`);
    console.log(`ha_takeover_serve_promotion_p99: ${pct(ms, 99)} ms`);
    console.log(bad.length ? `soak-ha: FAILED: ${bad.join('; ')}` : 'soak-ha: PASSED');
    process.exit(bad.length ? 1 : 0);
  }
  const r = await soakHa({
    rounds: arg('--rounds', 100), seed: arg('--seed', undefined),
    leaseMs: arg('--lease-ms', undefined), fenceMs: arg('--self-fence-ms', undefined),
  });
  const f = failuresHa(r);
  console.log(f.length ? `soak-ha: FAILED: ${f.join('; ')}` : 'soak-ha: PASSED');
  process.exit(f.length ? 1 : 0);
}
