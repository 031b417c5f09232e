// Optional TLS: with a certificate and key the listener serves HTTPS and
// WSS only. A fresh self-signed certificate is made with the openssl CLI
// for each run; the clients trust exactly that certificate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Server } from './lib/server.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-tls-'));
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1',
  '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  '-keyout', key, '-out', cert], { stdio: 'ignore' });
const ca = readFileSync(cert);

const srv = new Server({ args: ['--tls-cert', cert, '--tls-key', key] });
after(async () => { await srv.stop(); srv.cleanup(); rmSync(dir, { recursive: true, force: true }); });

function request(method, url, { body, headers = {}, trust = ca } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca: trust || undefined, agent: false, rejectUnauthorized: true, headers: {
      'content-type': 'application/json', 'content-length': Buffer.byteLength(body || ''),
      ...headers } }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

test('HTTPS and WSS with a self-signed certificate; the session cookie is Secure', async () => {
  await srv.start();
  assert.match(srv.output, new RegExp(`listening on https://127\\.0\\.0\\.1:${srv.port}/`));
  const base = `https://127.0.0.1:${srv.port}`;

  const health = await request('GET', `${base}/api/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { ok: true, protocol: 1, store: 'available' });
  assert.equal(health.headers['strict-transport-security'], 'max-age=31536000');
  const page = await request('GET', `${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.body, /<html/i);

  // a client that does not trust the certificate refuses it
  await assert.rejects(request('GET', `${base}/api/health`, { trust: false }),
    /self.signed|SELF_SIGNED/i);

  // login: the cookie carries Secure besides HttpOnly and SameSite=Strict
  const login = await request('POST', `${base}/api/login`, {
    body: JSON.stringify({ username: 'anna', password: 'demo-anna' }) });
  assert.equal(login.status, 200, login.body);
  const setCookie = login.headers['set-cookie'][0];
  assert.match(setCookie, /^td_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
  const cookie = setCookie.split(';')[0];

  // the agent WebSocket over TLS: snapshot, then a command and its result
  const ws = new WebSocket(`wss://127.0.0.1:${srv.port}/ws`, { ca, headers: { cookie, origin: base } });
  const frames = [];
  const got = (pred) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no frame; got ${JSON.stringify(frames)}`)), 10000);
    const check = () => { const f = frames.find(pred); if (f) { clearTimeout(t); resolve(f); } else setTimeout(check, 20); };
    check();
  });
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const snap = await got((f) => f.type === 'snapshot');
  assert.equal(snap.me.name, 'Anna Berg');
  ws.send(JSON.stringify({ id: 1, cmd: 'set_state', state: 'available' }));
  assert.equal((await got((f) => f.type === 'result' && f.id === 1)).ok, true);
  ws.close();

  // logout clears the cookie, Secure too
  const out = await request('POST', `${base}/api/logout`, { headers: { cookie, origin: base } });
  assert.equal(out.status, 200, out.body);
  assert.match(out.headers['set-cookie'][0], /Max-Age=0; Secure$/);

  // no plain HTTP on the TLS port: a cleartext request gets no HTTP answer
  const plain = await new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1', () => s.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n'));
    let data = '';
    s.on('data', (d) => { data += d.toString('latin1'); });
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(data));
    setTimeout(() => s.destroy(), 3000);
  });
  assert.doesNotMatch(plain, /^HTTP\/1\.1 200/);
});

test('without TLS the cookie is not Secure', async () => {
  const plain = new Server();
  try {
    await plain.start();
    const r = await fetch(`${plain.url}/api/login`, { method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'anna', password: 'demo-anna' }) });
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.headers.get('set-cookie'), /Secure/);
  } finally {
    await plain.stop();
    plain.cleanup();
  }
});
