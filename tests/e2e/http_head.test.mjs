// HEAD, as any HTTP server answers it (RFC 9110 9.3.2): every resource that
// answers GET answers HEAD with the same status and headers (Content-Type
// and Content-Length included) and no body. Checked on the wire: HEAD then
// GET on one keep-alive connection, so a body sent after HEAD's headers
// would be read as the start of the GET's answer. (Before: the API,
// /metrics and the 404 page answered HEAD with the 404 page and its body.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Server } from './lib/server.mjs';
import { login } from './lib/client.mjs';

const servers = [];
after(() => servers.forEach((s) => s.cleanup()));

// One keep-alive connection; ask() writes a request and reads one answer:
// its head, then Content-Length bytes of body unless it answers a HEAD.
function connect(port) {
  const sock = net.connect(port, '127.0.0.1');
  let data = Buffer.alloc(0);
  let wake = null;
  sock.on('data', (d) => { data = Buffer.concat([data, d]); wake?.(); });
  const more = (ms) => new Promise((res) => { wake = res; setTimeout(res, ms); });
  return {
    async ask(method, path, cookie) {
      assert.equal(data.length, 0, `bytes left over before ${method} ${path}: ${data.toString().slice(0, 80)}`);
      sock.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}\r\n`);
      const deadline = Date.now() + 10000;
      let end;
      while ((end = data.indexOf('\r\n\r\n')) < 0 && Date.now() < deadline) await more(200);
      assert.ok(end >= 0, `${method} ${path}: no answer`);
      const lines = data.subarray(0, end).toString().split('\r\n');
      data = data.subarray(end + 4);
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const status = Number(lines[0].split(' ')[1]);
      const n = method === 'HEAD' ? 0 : Number(headers['content-length']);
      while (data.length < n && Date.now() < deadline) await more(200);
      const body = data.subarray(0, n);
      data = data.subarray(n);
      if (method === 'HEAD') await more(150); // a stray body would arrive now
      return { status, headers, body };
    },
    close() { sock.destroy(); },
  };
}

test('HEAD answers every GET resource with its status and headers, without a body', { timeout: 60000 }, async () => {
  const s = new Server();
  servers.push(s);
  await s.start();
  const admin = await login(s.url, 'admin', 'demo-admin');
  assert.equal(admin.status, 200);
  const c = connect(s.port);
  const paths = [
    // static files of web/, the simulator's and the reports page's chart library
    ['/'], ['/desktop.css'], ['/js/app.js'], ['/i18n/sv.json'], ['/admin/'], ['/sim/'],
    ['/vendor/chart.js/chart.min.js'],
    // the load balancer's check and Prometheus's scrape
    ['/api/health'], ['/metrics'],
    // documented GET endpoints, with a session and without one
    ['/api/session', admin.cookie], ['/api/me', admin.cookie], ['/api/admin/teams', admin.cookie],
    ['/api/admin/audit.csv', admin.cookie], ['/api/admin/export', admin.cookie],
    ['/api/reports/figures.csv', admin.cookie], ['/api/admin/teams'],
    // what GET refuses, HEAD refuses alike: a path no file answers (the
    // 404 page), no such endpoint, POST only
    ['/no/such/page'], ['/api/nothing-here', admin.cookie], ['/api/login'],
  ];
  // answers that may change between two asks (counters, a time of writing)
  const VOLATILE = /^\/metrics$|\.csv$|\/export$/;
  const seen = new Set();
  try {
    for (const [p, cookie] of paths) {
      const head = await c.ask('HEAD', p, cookie);
      const get = await c.ask('GET', p, cookie);
      const what = `HEAD ${p}${cookie ? ' (session)' : ''}`;
      assert.equal(head.status, get.status, what);
      assert.equal(head.body.length, 0, what);
      assert.ok(get.body.length > 0, `GET ${p} has a body`);
      for (const h of ['content-type', 'content-length', 'cache-control', 'content-security-policy', 'x-content-type-options'])
        if (h !== 'content-length' || !VOLATILE.test(p))
          assert.equal(head.headers[h], get.headers[h], `${what}: ${h}`);
      assert.ok(head.headers['content-type'], `${what}: a content type`);
      assert.ok(Number(head.headers['content-length']) > 0, `${what}: the GET's length`);
      seen.add(head.status);
    }
  } finally {
    c.close();
  }
  assert.deepEqual([...seen].sort(), [200, 401, 404, 405]);
});
