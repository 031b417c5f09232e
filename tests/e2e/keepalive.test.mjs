// HTTP keep-alive as Kannel's smsbox uses it: one connection, a delivery
// report (GET, answered at once with an empty body) then an SMS (POST,
// answered after its commit), again and again, each request sent as soon
// as the previous answer arrived. Every request must be seen and answered
// once: lws 4.1 once served the POST with the previous GET's headers, so
// the SMS was answered 200 and never stored (found by the crash soak).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Server, freePort } from './lib/server.mjs';
import { storeQuery } from './lib/pg.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-keepalive-'));
let server;

before(async () => {
  const port = await freePort();
  const config = path.join(dir, 'site.json');
  writeFileSync(config, JSON.stringify({
    teams: [{ id: 1, name: 'Support' }],
    queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
    entry_points: [{ id: 1, number: '71000', queue: 1, gateway: 'k' }],
    agents: [{ id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna' }],
    gateways: [{ id: 'k', type: 'kannel', sendsms_url: 'http://127.0.0.1:9/cgi-bin/sendsms',
      username: 'u', password: 'p', dlr_url_base: `http://127.0.0.1:${port}` }],
  }));
  server = new Server({ args: ['--config', config] });
  server.port = port;
  await server.start();
});

after(async () => {
  if (server) {
    const st = await server.stop();
    server.cleanup();
    assert.equal(st.code, 0, `textdesk exit ${JSON.stringify(st)}:\n${server.output}`);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('on one keep-alive connection every request is answered once and every SMS stored', async () => {
  const N = 120;
  const sock = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  let buf = '';
  let answers = 0;
  let statuses = [];
  let wake = null;
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n\r\n')) >= 0) { // every answer has an empty body
      statuses.push(/^HTTP\/1\.1 (\d+)/.exec(buf)?.[1]);
      buf = buf.slice(i + 4);
      answers++;
      if (wake) { const w = wake; wake = null; w(); }
    }
  });
  for (let i = 0; i < N; i++) {
    const body = `SMS ${i}`;
    sock.write(i % 2
      ? `GET /api/gw/kannel/k/dlr?ref=${900000 + i}&type=8&reply=ACK%2F HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`
      : `POST /api/gw/kannel/k/mo?from=%2B46701000001&to=71000&id=ka-${i}&coding=0&charset=UTF-8 HTTP/1.1\r\n`
        + `Host: x\r\nConnection: keep-alive\r\nContent-Type: text/plain; charset="UTF-8"\r\n`
        + `Content-Length: ${body.length}\r\n\r\n${body}`);
    const want = i + 1;
    await new Promise((resolve, reject) => {
      if (answers >= want) { resolve(); return; }
      const t = setTimeout(() => reject(new Error(`no answer to request ${i}`)), 5000);
      wake = () => { clearTimeout(t); resolve(); };
    });
  }
  await new Promise((r) => setTimeout(r, 300));
  sock.end();
  assert.equal(answers, N, 'one answer per request');
  assert.deepEqual([...new Set(statuses)], ['200']);
  const [stored] = storeQuery(server,
    "SELECT count(*) FROM messages WHERE outbound = 0 AND text LIKE 'SMS %'");
  assert.equal(Number(stored), N / 2, 'every SMS answered 200 is stored');
});
