// PostgreSQL operations, on a cluster of this file's own (lib/pg.mjs).
// A multi-host connection string (libpq: several hosts,
// target_session_attrs=read-write) whose first host is down at the start;
// later the database moves to it from the second. The server starts on the
// host that answers, rides over the move by itself (no restart) and keeps
// everything it acknowledged. Then backups as docs/operations.md says.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, freePort, bin } from './lib/server.mjs';
import { Postgres, storeQuery } from './lib/pg.mjs';
import { Desk, simSend, until } from './lib/client.mjs';

const EP = '+46700000001';
const pgBin = '/usr/lib/postgresql/15/bin';
const servers = [];
// a loaded machine under ASan: migrating a new database can take longer
// than the harness's default 20 s to start (a waiting bound only)
process.env.TEXTDESK_START_MS ||= '60000';
const pg = await new Postgres().start();
after(() => { servers.forEach((s) => s.cleanup()); pg.stop(); });

test('a multi-host URL finds the live host, and the server follows the database to another host', { timeout: 120000 }, async () => {
  const db = pg.createDatabase('td_move');
  const live = Number(pg.url.match(/:(\d+)\//)[1]);
  const dead = await freePort(); // nobody listens there (yet)
  const url = `postgresql://postgres@127.0.0.1:${dead},127.0.0.1:${live}/${db.replace(/.*\//, '')}`
    + '?target_session_attrs=read-write&connect_timeout=2';
  const s = new Server({ storeUrl: url });
  servers.push(s); // stopped by 'after' whatever happens
  await s.start();
  try {
    const anna = await Desk.open(s.url, 'anna', 'demo-anna');
    await anna.cmd('set_state', { state: 'available' });
    assert.equal((await simSend(s.url, '+46701000001', EP, 'före flytten', 'mv-1')).status, 200);
    await anna.offer();

    pg.move(dead); // the database is now only at the first host
    // acknowledged only once stored: refused (503) while it is away, then taken
    const r = await until(async () => {
      const x = await simSend(s.url, '+46701000002', EP, 'efter flytten', 'mv-2');
      return x.status === 200 ? x : null;
    }, 60000);
    assert.equal(r.body.result, 'ok');
    assert.equal(s.proc.exitCode, null, 'the same process, not restarted');
    const texts = storeQuery(s, "SELECT text FROM messages WHERE outbound = 0 ORDER BY seq");
    assert.deepEqual(texts, ['före flytten', 'efter flytten']);
    await anna.close();
  } finally {
    assert.equal((await s.stop()).code, 0, s.output);
    s.cleanup();
  }
});

// PostgreSQL: `textdesk backup` refuses and names PostgreSQL's tools; the
// backup docs/operations.md gives (pg_dump -Fc while the server writes,
// pg_restore into a new database) passes selfcheck and a server starts on
// it with the conversations.
test('on PostgreSQL: backup names pg_dump; a pg_dump taken under load restores and starts', { timeout: 120000 }, async () => {
  const live = new Server({ storeUrl: pg.createDatabase() });
  servers.push(live);
  await live.start();
  const anna = await Desk.open(live.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  for (let i = 0; i < 20; i++)
    assert.equal((await simSend(live.url, `+4670555${String(i).padStart(4, '0')}`, EP, `PG ${i} åäö`)).status, 200);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-pgbackup-'));
  const copy = path.join(dir, 'copy.db');
  let refused;
  try {
    execFileSync(bin, ['backup', '--store', live.storeUrl, copy], { stdio: 'pipe' });
  } catch (e) { refused = e; }
  assert.equal(refused?.status, 1);
  assert.match(String(refused.stderr), /pg_dump/);
  assert.ok(!existsSync(copy));

  const dump = path.join(dir, 'textdesk.dump');
  const sending = simSend(live.url, '+46705559999', EP, 'under the dump'); // writes meanwhile
  execFileSync(`${pgBin}/pg_dump`, ['-Fc', '-d', live.storeUrl, '-f', dump]);
  assert.equal((await sending).status, 200);
  const restoredUrl = pg.createDatabase();
  execFileSync(`${pgBin}/pg_restore`, ['--no-owner', '-d', restoredUrl, dump]);
  const check = execFileSync(bin, ['selfcheck', '--store', restoredUrl], { encoding: 'utf8' });
  assert.match(check, /store sound/);
  const restored = new Server({ storeUrl: restoredUrl });
  servers.push(restored);
  await restored.start();
  const [n] = storeQuery(restored, "SELECT count(*) FROM messages WHERE text LIKE 'PG % åäö'");
  assert.equal(Number(n), 20);
  await anna.close();
  assert.equal((await live.stop()).code, 0, live.output);
  assert.equal((await restored.stop()).code, 0, restored.output);
});
