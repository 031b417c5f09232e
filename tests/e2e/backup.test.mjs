// Online backup under load and restore (issue 8, operations): the copy is
// consistent, a server starts on it, and every row in it is in the live
// store unchanged.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, bin } from './lib/server.mjs';
import { Desk, simSend } from './lib/client.mjs';

const EP = '+46700000001';
const servers = [];
after(() => servers.forEach((s) => s.cleanup()));

function rows(db) {
  const out = execFileSync('sqlite3', ['-readonly', db,
    'SELECT id, conv, seq, text FROM messages ORDER BY id;'], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

test('backup while customers text, then restore', async () => {
  const live = new Server();
  servers.push(live);
  await live.start();
  const anna = await Desk.open(live.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-backup-'));
  const copy = path.join(dir, 'copy.db');
  let sent = 0;
  let backupDone = false;
  const load = (async () => {
    while (!backupDone || sent < 150) {
      const r = await simSend(live.url, `+4670${String(sent % 40).padStart(7, '0')}`, EP, `Meddelande ${sent} åäö`);
      assert.equal(r.status, 200);
      sent++;
    }
  })();
  while (sent < 60) await new Promise((r) => setTimeout(r, 10));
  const out = execFileSync(bin, ['backup', '--data', live.dataDir, copy], { encoding: 'utf8' });
  backupDone = true;
  assert.match(out, /textdesk backup: .* -> /);
  await load;
  // refuses to overwrite
  assert.throws(() => execFileSync(bin, ['backup', '--data', live.dataDir, copy], { stdio: 'pipe' }));
  await anna.close();
  assert.equal((await live.stop()).code, 0, live.output);

  const liveRows = rows(path.join(live.dataDir, 'textdesk.db'));
  const copyRows = rows(copy);
  assert.ok(copyRows.length >= 60, `backup has ${copyRows.length} messages`);
  assert.ok(copyRows.length < liveRows.length);
  const liveSet = new Set(liveRows);
  assert.deepEqual(copyRows.filter((r) => !liveSet.has(r)), []);

  // restore: the copy in place of a data directory's store
  const restoredDir = path.join(dir, 'restored');
  mkdirSync(restoredDir);
  execFileSync('cp', [copy, path.join(restoredDir, 'textdesk.db')]);
  const restored = new Server({ dataDir: restoredDir });
  servers.push(restored);
  await restored.start();
  const again = await Desk.open(restored.url, 'anna', 'demo-anna');
  assert.ok(again.snapshot.conversations.length > 0);
  const conv = again.snapshot.conversations[0].id;
  const t = await again.cmd('messages', { conv });
  assert.ok(t.messages.some((m) => /Meddelande \d+ åäö/.test(m.text)));
  await again.close();
  assert.equal((await restored.stop()).code, 0, restored.output);
  assert.ok(existsSync(copy));
});
