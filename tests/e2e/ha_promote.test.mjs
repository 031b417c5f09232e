// PostgreSQL's own failover under a textdesk cluster (issue 14): a primary
// with a synchronous streaming replica (both real PostgreSQL 15, started
// here), two nodes on a multi-host URL with target_session_attrs=read-write.
// The primary is stopped and the replica promoted: the nodes reconnect to
// the new primary by themselves (the same processes, nobody restarts them),
// one leads, the SMS acknowledged before the failover is there once, a new
// one is acknowledged and stored once, and no deposed leader committed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Server, freePort } from './lib/server.mjs';
import { Postgres, psql } from './lib/pg.mjs';
import { simSend, until } from './lib/client.mjs';

const EP = '+46700000001';
const PGBIN = '/usr/lib/postgresql/15/bin';
const primary = new Postgres();
const nodes = [];
let replicaDir = null;

const asPg = (argv) => (process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--', ...argv] : argv);
const run = (argv) => { const a = asPg(argv); return execFileSync(a[0], a.slice(1), { encoding: 'utf8' }); };

after(() => {
  nodes.forEach((s) => s.cleanup());
  if (replicaDir) {
    try { run([`${PGBIN}/pg_ctl`, '-D', path.join(replicaDir, 'data'), '-w', 'stop', '-m', 'fast']); } catch { /* not running */ }
    rmSync(replicaDir, { recursive: true, force: true });
  }
  primary.stop();
});

test('the database fails over to its replica: the cluster reconnects by itself, nothing acknowledged is lost', async () => {
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
  assert.equal((await simSend(a.url, '+46701234567', EP, 'before', 'pr-1')).status, 200);
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
  console.log(`ha_promotion_to_inbound_acked: ${Date.now() - t0} ms (node ${leader === a ? 'a' : 'b'})`);
  assert.deepEqual([a.pid, b.pid], pids); // the same processes
  assert.equal(a.proc.exitCode, null);
  assert.equal(b.proc.exitCode, null);
  const newUrl = `postgresql://postgres@127.0.0.1:${p2}/${db}`;
  const rows = psql(newUrl, 'SELECT provider_id FROM messages WHERE outbound = 0 ORDER BY id')
    .split('\n').filter(Boolean).map((r) => r.replace(/^[^:]*:/, ''));
  assert.deepEqual(rows, ['pr-1', 'pr-2']);
  assert.equal(Number(psql(newUrl, 'SELECT coalesce(sum((SELECT coalesce(sum(c.n), 0) FROM ha_commits c'
    + ' WHERE c.epoch = e.epoch) - e.commits_at_end), 0) FROM ha_epochs e WHERE e.commits_at_end IS NOT NULL').trim()), 0);
});
