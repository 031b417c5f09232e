// Desktop faults, in Debian's Chromium against the real server:
//  (a) the browser is killed (SIGKILL by PID) while Anna has a conversation
//      open; the customer texts on meanwhile. The server keeps the
//      conversation for the disconnect grace period (DESIGN.md, docs/api.md):
//      Anna, logging in again on a fresh browser, has it back as its owner
//      with every message, each once.
//  (b) the page's network is cut for a few seconds (a TCP relay between
//      browser and server drops every connection and refuses new ones, and
//      the page is offline) while customer messages arrive; then restored.
//      The desktop shows "Reconnecting" while cut, reconnects by itself and
//      then shows every message exactly once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { Server, freePort } from './lib/server.mjs';
import { simSend } from './lib/client.mjs';
import { ARGS, agentPage, shot } from './lib/browser.mjs';
import { strings, configFile, until, waitText, login, problems } from './lib/desk.mjs';

const EP = '+46700000001';
const L = strings('sv');
const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const srv = new Server({ args: ['--config', configFile()] });
cleanup.push(async () => { await srv.stop(); srv.cleanup(); });

// The customer's and agent's texts in the open transcript, in order.
async function bubbles(page) {
  return page.locator('#transcript li.msg .text').allTextContents();
}

// Anna available, a customer texts, Anna accepts in the page: returns the
// conversation id.
async function acceptOne(page, customer, first) {
  await page.selectOption('#state-select', 'available');
  await page.locator('#state-dot.state-available').waitFor();
  assert.equal((await simSend(srv.url, customer, EP, first)).status, 200);
  await page.locator('.offer').waitFor();
  await page.click('.offer .accept');
  await waitText(page, '#transcript li.msg-in .text', first);
  return Number(await page.locator('#task-list li.task[aria-selected="true"]').first().getAttribute('data-conv'));
}

async function reply(page, text) {
  await page.fill('#composer-text', text);
  await page.click('#composer-send');
  await until(async () => (await bubbles(page)).includes(text), 8000, `reply "${text}" shown`);
}

test('browser killed mid-conversation: a fresh browser gets the conversation back with every message', async () => {
  await srv.start();
  // a browser of its own, so that its process can be killed by PID
  const bs = await chromium.launchServer({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
  const pid = bs.process().pid;
  const b1 = await chromium.connect(bs.wsEndpoint());
  const page = await agentPage(b1, srv.url);
  await login(page, 'anna', 'demo-anna');
  const CUST = '+46705550001';
  const conv = await acceptOne(page, CUST, 'Hej, mitt kort är spärrat');
  assert.ok(conv > 0);
  await reply(page, 'Jag tittar på det nu');
  await page.fill('#composer-text', 'ett utkast som inte skickades');

  process.kill(pid, 'SIGKILL');
  await until(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 5000, 'chromium gone');
  // the customer goes on texting while no desktop is open
  const later = ['Hallå?', 'Är du kvar?', 'Kortet slutar på 1234'];
  for (const t of later) assert.equal((await simSend(srv.url, CUST, EP, t)).status, 200);

  const b2 = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
  const p2 = await agentPage(b2, srv.url);
  await login(p2, 'anna', 'demo-anna');
  // still hers: in the task list, selected, writable, with the whole transcript
  await p2.locator(`#task-${conv}`).waitFor();
  await p2.click(`#task-${conv}`);
  const want = ['Hej, mitt kort är spärrat', 'Jag tittar på det nu', ...later];
  await until(async () => JSON.stringify(await bubbles(p2)) === JSON.stringify(want), 8000,
    `transcript ${JSON.stringify(want)} (has ${JSON.stringify(await bubbles(p2))})`);
  assert.equal(await p2.locator('.offer').count(), 0); // not offered again: still assigned to her
  await shot(p2, 'faults-01-after-browser-kill');
  await reply(p2, 'Tack, jag har spärrat om kortet');
  assert.deepEqual(await bubbles(p2), [...want, 'Tack, jag har spärrat om kortet']);
  assert.deepEqual(problems(p2), []);
  await b2.close(); // Anna away: the next test's offers go to Erik
});

// A TCP relay the test can cut: 'cut' destroys every connection and refuses
// new ones (connections are accepted and closed at once) until 'restore';
// 'freeze' silently stops forwarding on the connections open now (nothing
// is closed: a network that drops packets), new ones work.
async function relay(target) {
  const port = await freePort();
  const socks = new Set();
  const pairs = new Set();
  let up = true;
  const s = net.createServer((c) => {
    if (!up) { c.destroy(); return; }
    const u = net.connect(target, '127.0.0.1');
    socks.add(c); socks.add(u);
    const pair = [c, u];
    pairs.add(pair);
    c.pipe(u); u.pipe(c);
    const drop = () => { c.destroy(); u.destroy(); socks.delete(c); socks.delete(u); pairs.delete(pair); };
    c.on('error', drop); u.on('error', drop); c.on('close', drop); u.on('close', drop);
  });
  await new Promise((r) => s.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    cut() { up = false; for (const x of socks) x.destroy(); socks.clear(); },
    restore() { up = true; },
    freeze() { for (const [c, u] of pairs) { c.unpipe(u); u.unpipe(c); c.pause(); u.pause(); } pairs.clear(); },
    close() { this.cut(); return new Promise((r) => s.close(r)); },
  };
}

test('network cut and restored: "Reconnecting" while cut, then every message exactly once', async () => {
  if (!srv.proc || srv.proc.exitCode !== null) await srv.start();
  const net1 = await relay(srv.port);
  cleanup.push(() => net1.close());
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
  cleanup.push(() => browser.close());
  const page = await agentPage(browser, net1.url);
  await login(page, 'erik', 'demo-erik');
  const CUST = '+46705550002';
  const conv = await acceptOne(page, CUST, 'Jag har en fråga om min order');
  await reply(page, 'Självklart, vilket ordernummer?');

  // cut: the page is offline and every connection to the server is gone
  await page.context().setOffline(true);
  net1.cut();
  await page.locator('#conn.offline').waitFor({ timeout: 8000 });
  assert.equal((await page.locator('#conn').textContent()).trim(), L('conn_reconnecting'));
  await page.locator('#banner-conn').waitFor();
  assert.equal((await page.locator('#banner-conn').textContent()).trim(), L('conn_lost'));
  assert.equal(await page.locator('#composer-send').isDisabled(), true);
  // customer messages arrive while the agent is cut off
  const meanwhile = ['Order 4711', 'Den kom aldrig fram', 'Hallå?'];
  for (const t of meanwhile) assert.equal((await simSend(srv.url, CUST, EP, t)).status, 200);
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await page.locator('#conn.offline').count(), 1, 'still shown as cut off');
  await shot(page, 'faults-02-network-cut');

  // restored: the desktop reconnects by itself (backoff at most 5 s)
  net1.restore();
  await page.context().setOffline(false);
  await page.locator('#conn.online').waitFor({ timeout: 15000 });
  assert.equal(await page.locator('#banner-conn').isVisible(), false);
  const want = ['Jag har en fråga om min order', 'Självklart, vilket ordernummer?', ...meanwhile];
  await until(async () => JSON.stringify(await bubbles(page)) === JSON.stringify(want), 10000,
    `every message once: ${JSON.stringify(want)} (has ${JSON.stringify(await bubbles(page))})`);
  // no duplicates appear a little later either (late events, a second resync)
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await bubbles(page), want);
  assert.equal(await page.locator(`#task-${conv}`).count(), 1);
  await shot(page, 'faults-03-network-restored');
  await reply(page, 'Jag skickar en ny');
  assert.deepEqual(await bubbles(page), [...want, 'Jag skickar en ny']);
  // errors from the cut itself (failed loads while offline) are expected;
  // nothing else may be reported
  assert.deepEqual(problems(page).filter((p) => !/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION|WebSocket/i.test(p)), []);
});

test('a network that drops packets silently: the heartbeat notices, the desk reconnects, every message once', async () => {
  if (!srv.proc || srv.proc.exitCode !== null) await srv.start();
  const net1 = await relay(srv.port);
  cleanup.push(() => net1.close());
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
  cleanup.push(() => browser.close());
  // a 300 ms tick: ping after 0.9 s of silence, give up after 1.5 s
  const page = await agentPage(browser, net1.url, { init: () => { window.TEXTDESK_HEARTBEAT_MS = 300; } });
  await login(page, 'maja', 'demo-maja');
  await page.selectOption('#state-select', 'available');
  await page.locator('#state-dot.state-available').waitFor();
  // Sälj (71000) is served by Maja's team only among the connected agents
  const CUST = '+46705550003';
  assert.equal((await simSend(srv.url, CUST, '71000', 'Vad kostar det?')).status, 200);
  await page.locator('.offer').waitFor();
  await page.click('.offer .accept');
  await waitText(page, '#transcript li.msg-in .text', 'Vad kostar det?');
  // an idle desk stays online: the pings keep it alive
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(await page.locator('#conn.online').count(), 1, 'pings keep an idle connection');

  // the connection goes silent without closing; messages arrive meanwhile
  net1.freeze();
  assert.equal((await simSend(srv.url, CUST, '71000', 'Hallå?')).status, 200);
  // the heartbeat gives the silent connection up and a new one syncs
  await until(async () => (await bubbles(page)).includes('Hallå?'), 10000, 'the message after the freeze');
  assert.equal(await page.locator('#conn.online').count(), 1);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await bubbles(page), ['Vad kostar det?', 'Hallå?']);
  await reply(page, 'Det kostar 100 kr');
  assert.deepEqual(await bubbles(page), ['Vad kostar det?', 'Hallå?', 'Det kostar 100 kr']);
  assert.deepEqual(problems(page).filter((p) => !/ERR_CONNECTION|WebSocket/i.test(p)), []);
});
