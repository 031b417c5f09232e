// Structured logs: JSON lines on stderr, filtered by --log-level.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { simSend } from './lib/client.mjs';

const servers = [];
after(() => servers.forEach((s) => s.cleanup()));

function jsonLines(output) {
  return output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

test('JSON-lines logs with a level flag', async () => {
  const s = new Server({ args: ['--log-level', 'info'] });
  servers.push(s);
  await s.start();
  await simSend(s.url, '+46701', '+4699999', 'fel nummer');
  await s.stop();
  const lines = jsonLines(s.output);
  const start = lines.find((l) => l.msg === 'listening');
  assert.equal(start.level, 'info');
  assert.equal(start.port, String(s.port));
  assert.match(start.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const refused = lines.find((l) => l.msg.startsWith('inbound SMS refused'));
  assert.equal(refused.level, 'warn');
  assert.equal(refused.reason, 'no_such_entry_point');
  assert.ok(lines.some((l) => l.msg === 'stopping'));

  const quiet = new Server({ args: ['--log-level', 'error'] });
  servers.push(quiet);
  await quiet.start();
  await simSend(quiet.url, '+46701', '+4699999', 'fel nummer');
  await quiet.stop();
  assert.deepEqual(jsonLines(quiet.output), []);

  const bad = new Server({ args: ['--log-level', 'loud'] });
  servers.push(bad);
  await assert.rejects(bad.start(), /use debug, info, warn or error/);
});
