// PostgreSQL's own failover under a textdesk cluster (issue 14), one round:
// a primary with a synchronous streaming replica (both real PostgreSQL 15,
// started here), two nodes on a multi-host URL with
// target_session_attrs=read-write. An SMS is acknowledged, the primary is
// stopped and the replica promoted; the time until a node acknowledges the
// next SMS is measured. Everything is stopped by PID at the end.
// tests/e2e/ha_promote.test.mjs asserts one round; `node
// tests/soak/soak_ha.mjs --promotions N` prints percentiles over N.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Server, freePort } from '../e2e/lib/server.mjs';
import { Postgres, psql } from '../e2e/lib/pg.mjs';
import { simSend, until } from '../e2e/lib/client.mjs';

const EP = '+46700000001';
const PGBIN = '/usr/lib/postgresql/15/bin';
const asPg = (argv) => (process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--', ...argv] : argv);
const run = (argv) => { const a = asPg(argv); return execFileSync(a[0], a.slice(1), { encoding: 'utf8' }); };

// One promotion; resolves with {ms, leader, samePids, alive, rows, deposed}.
export async function promotion() {
  const primary = new Postgres();
  const nodes = [];
  let replicaDir = null;
  try {
    await primary.start();
    const p1 = Number(primary.url.match(/:(\d+)\//)[1]);
    const db = 'td_promote';
    psql(primary.url, `CREATE DATABASE ${db}`);
    // the replica: a base backup of the primary, streaming, synchronous
    replicaDir = `${primary.dir}-replica`;
    mkdirSync(replicaDir, { mode: 0o700 });
    if (process.getuid() === 0) execFileSync('chown', ['postgres', replicaDir]);
    const p2 = await freePort();
    run([`${PGBIN}/pg_basebackup`, '-h', '127.0.0.1', '-p', String(p1), '-U', 'postgres', '-D',
      path.join(replicaDir, 'data'), '-R', '-X', 'stream', '-c', 'fast']); // no wait for a spread checkpoint
    run([`${PGBIN}/pg_ctl`, '-D', path.join(replicaDir, 'data'), '-l', path.join(replicaDir, 'log'), '-w',
      '-o', `-c listen_addresses=127.0.0.1 -p ${p2} -k ${replicaDir} -c max_connections=200`, 'start']);
    // synchronous from now on: a commit waits for the replica
    psql(primary.url, "ALTER SYSTEM SET synchronous_standby_names = '*'");
    psql(primary.url, 'SELECT pg_reload_conf()');
    await until(() => psql(primary.url, 'SELECT sync_state FROM pg_stat_replication').trim() === 'sync', 20000);

    const url = `postgresql://postgres@127.0.0.1:${p1},127.0.0.1:${p2}/${db}?target_session_attrs=read-write`;
    const a = new Server({ storeUrl: url, args: ['--node', 'a'] });
    const b = new Server({ storeUrl: url, args: ['--node', 'b'] });
    nodes.push(a, b);
    await a.start();
    await until(async () => (await fetch(`${a.url}/api/health`)).status === 200, 30000);
    await b.start();
    if ((await simSend(a.url, '+46701234567', EP, 'before', 'pr-1')).status !== 200) throw new Error('not acknowledged before');
    const pids = [a.pid, b.pid];

    // the primary goes; the replica is promoted
    const t0 = Date.now();
    primary.ctl('stop', '-m', 'fast');
    run([`${PGBIN}/pg_ctl`, '-D', path.join(replicaDir, 'data'), '-w', 'promote']);
    const leader = await until(async () => {
      for (const s of [a, b]) {
        const r = await simSend(s.url, '+46701234567', EP, 'after', 'pr-2').catch(() => ({ status: 0 }));
        if (r.status === 200) return s;
      }
      return null;
    }, 60000);
    const ms = Date.now() - t0;
    const newUrl = `postgresql://postgres@127.0.0.1:${p2}/${db}`;
    const rows = psql(newUrl, 'SELECT provider_id FROM messages WHERE outbound = 0 ORDER BY id')
      .split('\n').filter(Boolean).map((r) => r.replace(/^[^:]*:/, ''));
    const deposed = Number(psql(newUrl, 'SELECT coalesce(sum((SELECT coalesce(sum(c.n), 0) FROM ha_commits c'
      + ' WHERE c.epoch = e.epoch) - e.commits_at_end), 0) FROM ha_epochs e WHERE e.commits_at_end IS NOT NULL').trim());
    return {
      ms, leader: leader === a ? 'a' : 'b', samePids: a.pid === pids[0] && b.pid === pids[1],
      alive: a.proc.exitCode === null && b.proc.exitCode === null, rows, deposed,
    };
  } finally {
    nodes.forEach((s) => s.cleanup());
    if (replicaDir) {
      try { run([`${PGBIN}/pg_ctl`, '-D', path.join(replicaDir, 'data'), '-w', 'stop', '-m', 'fast']); } catch { /* not running */ }
      rmSync(replicaDir, { recursive: true, force: true });
    }
    primary.stop();
  }
}
