// `textdesk admin ...` against a running server: the REST API from a shell.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, bin } from './lib/server.mjs';

const server = new Server();
after(() => server.cleanup());

function admin(s, args, password = 'demo-admin') {
  return new Promise((resolve) => {
    execFile(bin, ['admin', '--url', s.url, ...args], {
      env: { ...process.env, TEXTDESK_ADMIN_PASSWORD: password, ASAN_OPTIONS: 'detect_leaks=1' },
    }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

test('textdesk admin talks to a running server', async () => {
  const s = await server.start();
  let r = await admin(s, ['list', 'queues']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).queues.map((q) => q.name), ['Kundtjänst', 'Sälj']);

  r = await admin(s, ['put', 'teams', '7', '{"name":"Kväll"}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).name, 'Kväll');
  r = await admin(s, ['put', 'teams', '8', '{"name":"X","colour":"red"}']);
  assert.equal(r.code, 1);
  // one line: the server's message, then its status and code (before: the
  // raw JSON body)
  assert.equal(r.stderr, 'textdesk admin: colour: unknown field (HTTP 400, bad_field)\n');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-admin-cli-'));
  const file = path.join(dir, 'queue.json');
  writeFileSync(file, JSON.stringify({ name: 'Kvällskö', teams: [7], rona_timeout_s: 20 }));
  r = await admin(s, ['put', 'queues', '7', `@${file}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).rona_timeout_s, 20);
  assert.equal((await admin(s, ['delete', 'teams', '7'])).code, 1); // the queue serves it

  r = await admin(s, ['export']);
  const exported = JSON.parse(r.stdout);
  assert.ok(exported.queues.some((q) => q.name === 'Kvällskö'));
  const back = path.join(dir, 'site.json');
  writeFileSync(back, r.stdout);
  assert.equal((await admin(s, ['import', back])).code, 0);
  // a file that is not JSON: told by line and column before anything is
  // sent (before: the server's "not valid JSON (at byte 40)"), nothing changed
  const broken = path.join(dir, 'broken.json');
  writeFileSync(broken, '{"queues": [\n  {"id": 7, "name": "Q"}\n  {"id": 8, "name": "R"}]}');
  r = await admin(s, ['import', broken], 'never-asked');
  assert.deepEqual([r.code, r.stderr], [2, `textdesk admin: ${broken}: line 3, column 3: a comma or a closing ] is missing `
    + 'before this point: put a comma between two values, or close the list\n']);
  r = await admin(s, ['put', 'teams', '9', `@${broken}`]);
  assert.match(r.stderr, /broken\.json: line 3, column 3: a comma/);
  assert.ok(JSON.parse((await admin(s, ['list', 'queues'])).stdout).queues.some((q) => q.name === 'Kvällskö'));

  r = await admin(s, ['settings', '{"mask_sensitive_data":true}']);
  assert.deepEqual(JSON.parse(r.stdout), { mask_sensitive_data: true });
  r = await admin(s, ['report', '0', String(Date.now() + 1000)]);
  assert.match(r.stdout, /^conversation,customer_number,/);

  r = await admin(s, ['list', 'queues'], 'wrong');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^textdesk admin: cannot log in as 'admin' \(check --user and \$TEXTDESK_ADMIN_PASSWORD\): unknown user or wrong password: .* \(HTTP 401, bad_credentials\)\n$/);
  r = await admin({ url: 'http://127.0.0.1:1' }, ['list', 'queues']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^textdesk admin: cannot reach 127\.0\.0\.1:1: .*: is textdesk serve running there\? \(--url names the server\)\n$/);
  assert.equal((await admin(s, ['frobnicate'])).code, 2);
  assert.equal((await s.stop()).code, 0, s.output);
});
