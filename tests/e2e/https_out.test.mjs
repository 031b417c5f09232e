// Outbound HTTPS by host name (net_http on libcurl): a webhook gateway whose
// provider is https://localhost with a certificate of a private CA, trusted
// through "ca_file"; a second provider whose certificate that CA did not
// sign is refused before any request reaches it, and the reply fails with
// the TLS error on its bubble instead of being sent in clear.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, freePort } from './lib/server.mjs';
import { Desk } from './lib/client.mjs';

const SECRET = 'provider-shared-secret-1234';
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-https-'));
let server;
let anna;
const providers = [];
const got = { good: [], rogue: [] };

// a self-signed certificate for localhost: 'name' picks the files
function makeCert(name) {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert: readFileSync(cert), key: readFileSync(key), file: cert };
}

async function provider(name, tls) {
  const port = await freePort();
  let n = 0;
  const srv = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got[name].push({ body: JSON.parse(body), sig: req.headers['x-textdesk-signature'] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `${name}-${++n}` }));
    });
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  providers.push(srv);
  return port;
}

function sign(body) {
  const ts = Math.floor(Date.now() / 1000);
  const mac = createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex');
  return { 'x-textdesk-timestamp': String(ts), 'x-textdesk-signature': `sha256=${mac}` };
}

before(async () => {
  const trusted = makeCert('trusted');
  const rogue = makeCert('rogue');
  const goodPort = await provider('good', trusted);
  const roguePort = await provider('rogue', rogue);
  const config = path.join(dir, 'site.json');
  writeFileSync(config, JSON.stringify({
    ca_file: trusted.file,
    teams: [{ id: 1, name: 'Support' }],
    queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
    entry_points: [
      { id: 1, number: '+46700000011', queue: 1, gateway: 'good' },
      { id: 2, number: '+46700000012', queue: 1, gateway: 'rogue' },
    ],
    agents: [{ id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna', capacity: 5 }],
    gateways: [
      { id: 'good', type: 'webhook', url: `https://localhost:${goodPort}/send`, secret: SECRET },
      { id: 'rogue', type: 'webhook', url: `https://localhost:${roguePort}/send`, secret: SECRET },
    ],
    outbox: { max_attempts: 2, backoff_ms: 100, backoff_max_ms: 200 },
  }));
  server = new Server({ args: ['--config', config] });
  await server.start();
  anna = await Desk.open(server.url, 'anna', 'pw-anna');
  await anna.cmd('set_state', { state: 'available' });
});

after(async () => {
  if (anna) await anna.close();
  if (server) {
    const st = await server.stop();
    server.cleanup();
    assert.equal(st.code, 0, `textdesk exit ${JSON.stringify(st)}:\n${server.output}`);
  }
  for (const p of providers) await new Promise((r) => p.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function converse(gw, from, to, id) {
  const body = JSON.stringify({ from, to, text: 'Hej via HTTPS', id });
  const r = await fetch(`${server.url}/api/gw/webhook/${gw}/inbound`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...sign(body) }, body,
  });
  assert.equal(r.status, 200);
  const e = await anna.wait((x) => x.type === 'conversation' && x.conversation.number === from
    && x.conversation.role === 'offered', 5000);
  await anna.cmd('accept', { conv: e.conversation.id });
  return e.conversation.id;
}

test('a reply goes out over HTTPS to a host name whose certificate the ca_file trusts', async () => {
  const conv = await converse('good', '+46701230001', '+46700000011', 'h-1');
  const seq = await anna.reply(conv, 'Svar över TLS 🔒');
  await anna.wait((e) => e.type === 'delivery' && e.seq === seq && e.status === 'sent', 10000);
  assert.equal(got.good.length, 1);
  assert.equal(got.good[0].body.text, 'Svar över TLS 🔒');
  assert.equal(got.good[0].body.to, '+46701230001');
  assert.match(got.good[0].sig, /^sha256=[0-9a-f]{64}$/);
});

test('a certificate the ca_file does not trust: nothing reaches that host, the reply fails with the TLS error', async () => {
  const conv = await converse('rogue', '+46701230002', '+46700000012', 'h-2');
  const seq = await anna.reply(conv, 'Får inte gå ut okrypterat');
  const f = await anna.wait((e) => e.type === 'delivery' && e.seq === seq && e.status === 'failed', 15000);
  assert.match(f.error || '', /certificate|SSL|TLS/i, `error on the bubble: ${f.error}`);
  assert.equal(got.rogue.length, 0, 'no request got past the handshake');
});
