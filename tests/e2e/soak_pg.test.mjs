// The crash soak on PostgreSQL, short (tests/soak/soak.mjs; the full run is
// `make soak-pg`): 3 SIGKILLs under load through a real Kannel, then the
// database faults under load: the server's connection killed
// (pg_terminate_backend), the database restarted, the database stopped for
// 5 s; then smsbox down 2 s. Nothing acknowledged is lost, nothing reaches
// the SMSC twice, the server resumes by itself after each fault, and the
// store passes `textdesk selfcheck --store`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak, failures } from '../soak/soak.mjs';
import { kannelMissing } from '../peers/kannel/harness.mjs';

const missing = kannelMissing();

test('kills and database faults on PostgreSQL lose and duplicate nothing', { skip: missing || false, timeout: 300000 }, async () => {
  const r = await soak({
    kills: 3, downS: 2, seed: 13, store: 'postgresql',
    dbFaults: ['terminate', 'restart', 'stop:5'],
  });
  assert.deepEqual(failures(r), []);
  assert.equal(r.dbFaults, 3);
  // a killed idle connection is replaced at the next transaction without
  // degrading; the stop (and usually the restart) goes through degraded mode
  assert.ok(r.resumed >= 1, `resumed from degraded mode ${r.resumed} times`);
  assert.ok(r.injected > 30, `customers texted (${r.injected})`);
  assert.ok(r.dbAcked > 0, 'replies acknowledged around the database faults');
});
