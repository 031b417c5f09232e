// The crash and gateway-fault soak, short (tests/soak/soak.mjs; the full
// run, 50 kills and Kannel down 60 s, is `make soak`): 8 SIGKILLs under
// load through a real Kannel, then smsbox down 5 s. Nothing acknowledged is
// lost, nothing reaches the SMSC twice, replies stay in order, and the
// store passes `textdesk selfcheck --data`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak, failures } from '../soak/soak.mjs';
import { kannelMissing } from '../peers/kannel/harness.mjs';

const missing = kannelMissing();

test('8 kills and a 5 s gateway outage lose and duplicate nothing', { skip: missing || false, timeout: 300000 }, async () => {
  const r = await soak({ kills: 8, downS: 5, seed: 8 });
  assert.deepEqual(failures(r), []);
  assert.equal(r.kills, 8);
  assert.ok(r.injected > 50, `customers texted (${r.injected})`);
  assert.ok(r.acked > 50, `agents' replies acknowledged (${r.acked})`);
  assert.ok(r.faultAcked > 0, 'replies acknowledged while the gateway was down');
});
