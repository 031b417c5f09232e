// PostgreSQL reached through a multi-host connection string (libpq:
// several hosts, target_session_attrs=read-write): the first host is down
// at the start, and later the database moves to it from the second. The
// server starts on the host that answers, rides over the move by itself
// (degraded meanwhile, then resumed: no restart), and keeps everything it
// acknowledged. Runs on its own PostgreSQL cluster (lib/pg.mjs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, freePort } from './lib/server.mjs';
import { Postgres, storeQuery } from './lib/pg.mjs';
import { Desk, simSend, until } from './lib/client.mjs';

const EP = '+46700000001';
const pg = await new Postgres().start();
after(() => pg.stop());

test('a multi-host URL finds the live host, and the server follows the database to another host', { timeout: 120000 }, async () => {
  const db = pg.createDatabase('td_move');
  const live = Number(pg.url.match(/:(\d+)\//)[1]);
  const dead = await freePort(); // nobody listens there (yet)
  const url = `postgresql://postgres@127.0.0.1:${dead},127.0.0.1:${live}/${db.replace(/.*\//, '')}`
    + '?target_session_attrs=read-write&connect_timeout=2';
  const s = await new Server({ storeUrl: url }).start();
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
