// PostgreSQL's own failover under a textdesk cluster (issue 14): a primary
// with a synchronous streaming replica (both real PostgreSQL 15, started
// here), two nodes on a multi-host URL with target_session_attrs=read-write
// (tests/soak/promote.mjs). The primary is stopped and the replica
// promoted: the nodes reconnect to the new primary by themselves (the same
// processes, nobody restarts them), one leads, the SMS acknowledged before
// the failover is there once, a new one is acknowledged and stored once,
// and no deposed leader committed. Over several rounds:
// `node tests/soak/soak_ha.mjs --promotions N`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promotion } from '../soak/promote.mjs';

test('the database fails over to its replica: the cluster reconnects by itself, nothing acknowledged is lost', async () => {
  const r = await promotion();
  console.log(`ha_promotion_to_inbound_acked: ${r.ms} ms (node ${r.leader})`);
  assert.equal(r.samePids, true); // the same processes
  assert.equal(r.alive, true);
  assert.deepEqual(r.rows, ['pr-1', 'pr-2']);
  assert.equal(r.deposed, 0);
});
