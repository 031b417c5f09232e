// Login throttling behind a real reverse proxy (issue 19, item 14): HAProxy
// from Debian on loopback in front of textdesk, adding X-Forwarded-For;
// clients on distinct loopback addresses (127.0.0.2, .3, .4). textdesk
// trusts the header only from the configured proxy (trusted_proxies), so an
// attacker's failures slow the attacker, not everyone behind the proxy, and
// five wrong passwords for a name do not lock its user out.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Server, freePort } from './lib/server.mjs';
import { configFile } from './lib/desk.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-proxy-'));
const server = new Server({ args: ['--config', configFile({ trusted_proxies: ['127.0.0.1'] })] });
let haproxy;
after(() => {
  if (haproxy && haproxy.exitCode === null) haproxy.kill('SIGKILL');
  server.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function startHaproxy(port, backend) {
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(cfg, [
    'global', '  maxconn 256',
    'defaults', '  mode http', '  timeout connect 5s', '  timeout client 30s',
    '  timeout server 30s',
    'frontend web', `  bind 127.0.0.1:${port}`, '  option forwardfor', '  default_backend td',
    'backend td', '  source 127.0.0.1', `  server textdesk 127.0.0.1:${backend}`, '',
  ].join('\n'));
  const p = spawn('/usr/sbin/haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  // ready when it answers (a 404 from textdesk through it)
  for (let i = 0; i < 100; i++) {
    if (p.exitCode !== null) throw new Error(`haproxy exited: ${out}`);
    try {
      await request(port, '127.0.0.1', 'GET', '/api/nothing');
      return p;
    } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  throw new Error(`haproxy did not start: ${out}`);
}

// One request from a chosen loopback address; resolves { status, body }.
function request(port, from, method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({
      host: '127.0.0.1', port, localAddress: from, method, path,
      headers: { 'content-type': 'application/json', ...headers,
        ...(data ? { 'content-length': data.length } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null });
        } catch {
          reject(new Error(`${method} ${path} from ${from}: ${res.statusCode} ${text}`));
        }
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

test('behind HAProxy an attacker is slowed, the real users still log in', async () => {
  const s = await server.start();
  const proxyPort = await freePort();
  haproxy = await startHaproxy(proxyPort, s.port);
  const login = (from, username, password, headers) =>
    request(proxyPort, from, 'POST', '/api/login', { username, password }, headers);

  // anna has logged in from her desk (127.0.0.3) before
  assert.equal((await login('127.0.0.3', 'anna', 'demo-anna')).status, 200);

  // the attacker (127.0.0.2) tries 40 made-up names: slowed after 30
  const seen = [];
  for (let i = 0; i < 40; i++) seen.push((await login('127.0.0.2', `nobody${i}`, 'x')).status);
  assert.deepEqual(seen.slice(0, 30), Array(30).fill(401));
  assert.ok(seen.slice(30).includes(429), `statuses: ${seen}`);
  // then wrong passwords for erik and anna, waiting out each refusal
  // like a patient attacker: the waits double, until one of 2 s or more
  for (let i = 0; i < 6; i++) await login('127.0.0.2', 'erik', `guess${i}`);
  let refused;
  for (let i = 0; i < 30 && !refused; i++) {
    const r = await login('127.0.0.2', 'anna', `guess${i}`);
    if (r.status === 429 && r.body.retry_after_s >= 2) refused = r;
    else if (r.status === 429) await new Promise((ok) => setTimeout(ok, 1000 * r.body.retry_after_s));
    else assert.equal(r.status, 401);
  }
  assert.ok(refused, 'the attacker was never slowed down to 2 s');
  const slowed = await login('127.0.0.2', 'anna', 'demo-anna'); // even the right one
  assert.equal(slowed.status, 429);
  assert.equal(slowed.body.error, 'too_many_attempts');
  assert.ok(slowed.body.retry_after_s >= 1, JSON.stringify(slowed.body));
  assert.match(slowed.body.message, /try again in \d+ s/);

  // everyone else behind the same proxy logs in: anna at her desk, erik and
  // maja from other places (before: 20 failures locked the proxy's address,
  // 5 locked the name everywhere)
  assert.equal((await login('127.0.0.3', 'anna', 'demo-anna')).status, 200);
  assert.equal((await login('127.0.0.4', 'erik', 'demo-erik')).status, 200);
  assert.equal((await login('127.0.0.4', 'maja', 'demo-maja')).status, 200);
  // a wrong password elsewhere is just that
  assert.equal((await login('127.0.0.4', 'maja', 'nope')).status, 401);

  // no one can pose as someone else. Through the proxy, 127.0.0.6 forges
  // X-Forwarded-For: 127.0.0.4; HAProxy appends the real address and
  // textdesk reads from the right, so the failures are 127.0.0.6's ...
  for (let i = 0; i < 4; i++) {
    assert.equal((await login('127.0.0.6', 'maja', `x${i}`, { 'x-forwarded-for': '127.0.0.4' })).status, 401);
  }
  assert.equal((await login('127.0.0.6', 'maja', 'x')).status, 429);
  assert.equal((await login('127.0.0.4', 'maja', 'demo-maja')).status, 200);
  // ... and talking to textdesk directly, 127.0.0.5 is no trusted proxy:
  // its X-Forwarded-For is ignored
  const direct = (password) => request(s.port, '127.0.0.5', 'POST', '/api/login',
    { username: 'erik', password }, { 'x-forwarded-for': '127.0.0.4' });
  for (let i = 0; i < 4; i++) assert.equal((await direct(`x${i}`)).status, 401);
  assert.equal((await direct('demo-erik')).status, 429);
  assert.equal((await login('127.0.0.4', 'erik', 'demo-erik')).status, 200);

  haproxy.kill('SIGTERM');
  await new Promise((r) => haproxy.on('exit', r));
  assert.equal((await s.stop()).code, 0, s.output);
});
